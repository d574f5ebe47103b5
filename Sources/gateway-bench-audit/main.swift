// Decision-log benchmark (issue 6): what a decision record costs, measured inside one process so that none of the
// proxy benchmark's network noise enters. Run in release mode (see bench/audit-bench, which pins it to one core as
// the proxy benchmark pins gatewayd).
//
//   build   CPU time to make a DecisionRecord the way the gateway does for a clean forwarded request (the gateway
//           has the log's I/O queue do it, `append(recordMadeBy:)`)
//   append  CPU time of `append(_:flush: .withPass)` on the caller's thread: what an event loop pays per record.
//           It only queues the record; the I/O queue seals it (canonical JSON, HMAC, chain hash) with its batch.
//   commit  `--in-flight` appends outstanding at all times, each completion appending the next (with an outcome
//           per record, as a forwarded request has): records/s, lines per fsync, and the whole process's CPU time
//           per record (caller, I/O thread with the sealing, kernel: fsync included).
import Dispatch
import Foundation
import GatewayAudit
import Synchronization

struct Arguments {
    var seconds = 3.0
    var inFlight = 64
    var directory: String?

    init() {
        var iterator = CommandLine.arguments.dropFirst().makeIterator()
        while let argument = iterator.next() {
            switch argument {
            case "--seconds": self.seconds = Double(iterator.next() ?? "") ?? self.seconds
            case "--in-flight": self.inFlight = Int(iterator.next() ?? "") ?? self.inFlight
            case "--directory": self.directory = iterator.next()
            default:
                FileHandle.standardError.write(Data(
                    "usage: gateway-bench-audit [--seconds S] [--in-flight N] [--directory DIR]\n".utf8))
                exit(2)
            }
        }
    }
}

/// CPU time of the calling thread, in seconds.
func threadCPUSeconds() -> Double {
    var spec = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
    return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
}

/// CPU time of the whole process (every thread, user and kernel), in seconds.
func processCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
    return seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

let hex = "0123456789abcdef"
func randomHex(_ count: Int) -> String { String((0..<count).map { _ in hex.randomElement()! }) }
let ruleSetHash = randomHex(64)
let policyHash = randomHex(64)

/// A record as `AuditTrail` makes it for a clean request forwarded to OpenAI.
func cleanRecord() -> DecisionRecord {
    DecisionRecord(
        requestID: nextRequestID(), instance: "gateway-1:8443", clientAddress: "127.0.0.1",
        identity: Identity(user: "bench-user", role: "engineer", keyID: "ZNayHEex2q"), provider: "openai",
        method: "POST", target: "/v1/chat/completions", model: "gpt-4o-mini", decision: .allow, reason: "clean",
        bytesIn: 2025, bytesForwarded: 2025, inspectMs: 0.071, ruleSetHash: ruleSetHash, policyHash: policyHash
    )
}

/// A distinct request id of the gateway's length, without generating random bytes for each (not what is measured).
/// Called from the main thread and the log's I/O queue at once, hence the atomic counter.
let requestCounter = Atomic<Int>(0)
func nextRequestID() -> String {
    let number = String(requestCounter.add(1, ordering: .relaxed).newValue, radix: 16)
    return "req_178071f7e4023d89" + String(repeating: "0", count: max(0, 8 - number.count)) + number
}

let arguments = Arguments()
let directory = arguments.directory ?? NSTemporaryDirectory() + "gateway-bench-audit-\(getpid())"
try? FileManager.default.removeItem(atPath: directory)
defer { try? FileManager.default.removeItem(atPath: directory) }
var configuration = AuditLogConfiguration(directory: directory + "/log", keyFile: directory + "/audit.key")
configuration.maxSegmentBytes = 256 << 20

let log = try await AuditLog.open(configuration)

// MARK: build and append, on this thread

let perRound = 1000
var buildTimes: [Double] = []
var appendTimes: [Double] = []
let clock = ContinuousClock()
let phaseDeadline = clock.now + .seconds(arguments.seconds)
while clock.now < phaseDeadline || buildTimes.count < 5 {
    let buildStart = threadCPUSeconds()
    let records = (0..<perRound).map { _ in cleanRecord() }
    let appendStart = threadCPUSeconds()
    let written = DispatchGroup()
    for record in records {
        written.enter()
        log.append(.record(record), flush: .withPass) { _ in written.leave() }
    }
    let appendEnd = threadCPUSeconds()
    log.flushQueuedLines()
    written.wait()
    buildTimes.append((appendStart - buildStart) / Double(perRound))
    appendTimes.append((appendEnd - appendStart) / Double(perRound))
}
print(String(format: "build   %.2f µs per record (median of %d rounds of %d)", median(buildTimes) * 1e6, buildTimes.count, perRound))
print(String(format: "append  %.2f µs per record on the caller (queued; sealed by the I/O queue)", median(appendTimes) * 1e6))

// MARK: group commit under concurrency

/// Keeps `inFlight` appends outstanding until the deadline; each completion appends the next.
final class Load: Sendable {
    let log: AuditLog
    let deadline: ContinuousClock.Instant
    let completed = Atomic<Int>(0)
    let failed = Atomic<Int>(0)
    let finished = DispatchGroup()

    init(log: AuditLog, deadline: ContinuousClock.Instant) {
        self.log = log
        self.deadline = deadline
    }

    func start(_ lanes: Int) {
        for _ in 0..<lanes {
            self.finished.enter()
            self.next()
        }
    }

    private func next() {
        guard ContinuousClock.now < self.deadline else {
            self.finished.leave()
            return
        }
        let record = cleanRecord()
        self.log.append(.record(record), flush: .now) { result in
            if case .failure = result { self.failed.add(1, ordering: .relaxed) }
            self.completed.add(1, ordering: .relaxed)
            self.log.appendOutcome(RequestOutcome(
                id: record.id, upstreamStatus: 200, status: 200, bytesOut: 576, streamed: false, upstreamMs: 0.4,
                totalMs: 1.2
            ))
            self.next()
        }
    }
}

let batchesBefore = log.batches
let cpuBefore = processCPUSeconds()
let start = clock.now
let load = Load(log: log, deadline: start + .seconds(arguments.seconds))
load.start(arguments.inFlight)
load.finished.wait()
let elapsed = clock.now - start
let cpu = processCPUSeconds() - cpuBefore
let completed = load.completed.load(ordering: .relaxed)
let batches = log.batches - batchesBefore
let wall = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
print(String(
    format: "commit  %d in flight: %.0f records/s, %.1f lines per fsync, %.1f µs CPU per record (process, fsync included)%@",
    arguments.inFlight, Double(completed) / wall, Double(completed) / Double(max(batches, 1)),
    cpu / Double(max(completed, 1)) * 1e6, load.failed.load(ordering: .relaxed) > 0 ? " FAILURES" : ""
))
try await log.close()
