import Foundation
import GatewayCrypto
import Testing
@testable import GatewayAudit

/// Outcomes (`AuditLog.appendOutcome`) never start a write of their own while another is due soon: they are
/// gathered into one `outcomes` line that rides along with the next batch of records, and a timer writes them when
/// none comes.
@Suite("Writer: outcomes are batched")
struct OutcomeBatchTests {
    private func outcome(_ id: RecordID = .generate()) -> RequestOutcome {
        RequestOutcome(id: id, upstreamStatus: 200, status: 200, bytesOut: 10, upstreamMs: 1, totalMs: 2)
    }

    private func open(deferredWriteDelay: Duration) async throws -> (AuditLog, AuditLocation) {
        let location = temporaryLocation()
        var configuration = AuditLogConfiguration(location: location)
        configuration.deferredWriteDelay = deferredWriteDelay
        return (try await AuditLog.open(configuration), location)
    }

    @Test func outcomesRideAlongWithTheNextBatchAsOneLine() async throws {
        let (log, location) = try await self.open(deferredWriteDelay: .seconds(30))
        let outcomes = (0..<3).map { _ in self.outcome() }
        for outcome in outcomes { log.appendOutcome(outcome) }
        log.flushQueuedLines()  // the end of an event-loop pass with nothing but outcomes: no batch
        try await Task.sleep(for: .milliseconds(100))
        #expect(log.batches == 0, "outcomes alone started a write")

        try await log.append(sampleRecord())
        #expect(log.batches == 1, "the record and the outcomes should share one write and fsync")
        try await log.close()
        let report = try verify(location)
        #expect(report.ok, "\(String(describing: report.failure))")
        #expect(report.lines == 3)  // the record, one outcomes line, the shutdown checkpoint
        // The record was sealed when appended, the outcomes when the batch formed: both in that one batch.
        let entries = AuditReader.entries(directory: location.directory)
        #expect(entries.map(\.kind) == [.record, .outcomes, .checkpoint])
        #expect(entries[1].allOutcomes == outcomes)
    }

    @Test func outcomesAreWrittenByThemselvesWithinTheDelay() async throws {
        let (log, location) = try await self.open(deferredWriteDelay: .milliseconds(20))
        log.appendOutcome(self.outcome())
        log.appendOutcome(self.outcome())
        for _ in 0..<200 where log.batches == 0 { try await Task.sleep(for: .milliseconds(10)) }
        #expect(log.batches == 1)
        await log.abandonForTesting()  // a crash now loses nothing: the line is on disk
        let reopened = try await AuditLog.open(AuditLogConfiguration(location: location))
        #expect(reopened.startup.lastSeq == 1)
        try await reopened.close()
        #expect(AuditReader.entries(directory: location.directory).first?.allOutcomes.count == 2)
    }

    @Test("While records flow, the outcomes' timer re-arms for the youngest waiting outcome instead of writing")
    func timerStartsNoWriteWhileRecordsFlow() {
        // The timer's decisions at chosen instants: deterministic, unlike a test against the real clock and disk.
        // (`WriterState` is not copyable, so each answer is taken before it is checked.)
        let delay = Duration.milliseconds(10)
        let start = ContinuousClock.now
        func at(_ milliseconds: Int) -> ContinuousClock.Instant { start + .milliseconds(milliseconds) }
        var state = WriterState()
        let armed = state.gather(self.outcome(), now: at(0))
        let armedAgain = state.gather(self.outcome(), now: at(1))
        #expect(armed && !armedAgain, "the first outcome arms the timer, once")
        let taken = state.takeBatch().count
        #expect(taken == 1, "a batch of records takes both outcomes along as one line")
        let armedByLater = state.gather(self.outcome(), now: at(8))
        #expect(!armedByLater)
        // Due for the first outcome, but that one was written; the one waiting is 2 ms old.
        let first = state.deferredWriteFired(now: at(10), delay: delay)
        #expect(first == .wait(.milliseconds(8)))
        let (scheduled, flushing, needed) = (state.deferredWriteScheduled, state.flushing, state.batchNeeded)
        #expect(scheduled && !flushing && !needed)
        let takenLater = state.takeBatch().count
        #expect(takenLater == 1)
        let second = state.deferredWriteFired(now: at(18), delay: delay)
        let scheduledAfter = state.deferredWriteScheduled
        #expect(second == .nothing && !scheduledAfter, "no outcome waits: nothing to do")
    }

    @Test("An outcome nobody took along is written once it has waited the delay, or by the write under way")
    func timerWritesOutcomesThatWaitedTheDelay() {
        let delay = Duration.milliseconds(10)
        let start = ContinuousClock.now
        var idle = WriterState()
        _ = idle.gather(self.outcome(), now: start)
        let idleStep = idle.deferredWriteFired(now: start + .milliseconds(10), delay: delay)
        let (idleFlushing, idleNeeded) = (idle.flushing, idle.batchNeeded)
        #expect(idleStep == .write && idleFlushing && idleNeeded)

        var busy = WriterState()
        busy.flushing = true  // a batch is being written: it takes the outcomes next
        _ = busy.gather(self.outcome(), now: start)
        let busyStep = busy.deferredWriteFired(now: start + .milliseconds(12), delay: delay)
        let busyNeeded = busy.batchNeeded
        #expect(busyStep == .nothing && busyNeeded)

        var closed = WriterState()
        _ = closed.gather(self.outcome(), now: start)
        closed.closed = true
        let closedStep = closed.deferredWriteFired(now: start + .milliseconds(12), delay: delay)
        let closedFlushing = closed.flushing
        #expect(closedStep == .nothing && !closedFlushing)
    }

    @Test("Outcomes whose timer falls due during a slow write are written right after it, with nothing else appended")
    func outcomesDueDuringAWriteAreWrittenNext() async throws {
        let faults = FaultInjector()
        let location = temporaryLocation()
        var configuration = AuditLogConfiguration(location: location)
        configuration.deferredWriteDelay = .milliseconds(50)
        configuration.faults = faults
        let log = try await AuditLog.open(configuration)
        faults.stall(.fsync, by: .milliseconds(300))
        log.append(.record(sampleRecord()), flush: .now, completion: nil)
        try await Task.sleep(for: .milliseconds(30))  // the record's batch is in its slow fsync now
        log.appendOutcome(self.outcome())
        faults.clear()
        // The timer falls due at about 80 ms, while the first write usually still runs (on a starved machine the
        // outcome may instead have joined the record's batch); nothing else is ever appended, and the log is read
        // before `close`, which would write any gathered outcome itself.
        var kinds: [LogEntry.Kind] = []
        for _ in 0..<300 where !kinds.contains(.outcomes) {
            try await Task.sleep(for: .milliseconds(10))
            kinds = AuditReader.entries(directory: location.directory).map(\.kind)
        }
        #expect(kinds == [.record, .outcomes], "the outcome was left waiting for a record that never comes")
        try await log.close()
    }

    @Test("A log from before outcomes were batched (one `outcome` line per request) verifies, and each outcome joins its record")
    func singleOutcomeLinesOfOlderLogsAreRead() throws {
        let location = temporaryLocation()
        try FileManager.default.createDirectory(atPath: location.directory, withIntermediateDirectories: true)
        let key = try KeyFile.loadOrCreate(path: location.keyFile)
        let record = sampleRecord()
        let outcome = self.outcome(record.id)
        let first = try LogEntry(seq: 1, prev: LogEntry.genesis, kid: key.keyID, payload: .record(record)).sealedLine(key: key.mac)
        // The earlier writer's line: kind `outcome` and one object under `outcome`, in the same envelope.
        var legacy = LogEntry(seq: 2, prev: Crypto.hex(Crypto.sha256(first)), kid: key.keyID, payload: .outcomes([]))
        (legacy.kind, legacy.outcomes, legacy.outcome) = (.outcome, nil, outcome)
        let second = try Sealing.seal(legacy, key: key.bytes)
        try writeLines([first, second].map { String(decoding: $0, as: UTF8.self) }, to: segmentPath(location, 1))

        let report = try verify(location)
        #expect(report.ok, "\(String(describing: report.failure))")
        #expect(report.lines == 2 && report.records == 1)
        let views = AuditReader.views(entries: AuditReader.entries(directory: location.directory))
        #expect(views.map(\.record.id) == [record.id])
        #expect(views.first?.outcome == outcome)
    }

    @Test func closingWritesGatheredOutcomes() async throws {
        let (log, location) = try await self.open(deferredWriteDelay: .seconds(30))
        log.appendOutcome(self.outcome())
        try await log.close()
        let report = try verify(location)
        #expect(report.ok, "\(String(describing: report.failure))")
        #expect(report.lines == 2)  // the outcomes line and the shutdown checkpoint
    }

    @Test func recordsAndOutcomesUnderConcurrencyAcrossRotationsKeepTheChain() async throws {
        let location = temporaryLocation()
        var configuration = AuditLogConfiguration(location: location)
        configuration.maxSegmentBytes = 16_000
        configuration.deferredWriteDelay = .milliseconds(1)
        let log = try await AuditLog.open(configuration)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<300 {
                group.addTask {
                    let record = sampleRecord(user: "u\(index)")
                    try await log.append(record)
                    log.appendOutcome(self.outcome(record.id))
                }
            }
            try await group.waitForAll()
        }
        try await log.close()
        let report = try verify(location)
        #expect(report.ok, "\(String(describing: report.failure))")
        #expect(report.records == 300)
        #expect(report.segments > 2)
        let views = AuditReader.views(entries: AuditReader.entries(directory: location.directory))
        #expect(views.count == 300)
        #expect(views.allSatisfy { $0.outcome?.id == $0.record.id }, "every record keeps its outcome")
        for index in SegmentNames.list(in: location.directory) {
            #expect(!(FileOps.read(segmentPath(location, index)) ?? []).contains(0), "segment \(index) kept reserved zeros")
        }
    }

    @Test func eachOutcomeJoinsItsRecord() async throws {
        let (log, location) = try await self.open(deferredWriteDelay: .seconds(30))
        let records = (0..<3).map { sampleRecord(user: "u\($0)") }
        for record in records { try await log.append(record) }
        for record in records.reversed() { log.appendOutcome(self.outcome(record.id)) }
        try await log.close()
        let views = AuditReader.views(entries: AuditReader.entries(directory: location.directory))
        #expect(views.map(\.record.id) == records.map(\.id))
        #expect(views.allSatisfy { $0.outcome?.id == $0.record.id })
    }
}
