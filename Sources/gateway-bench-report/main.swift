import Foundation
import GatewayAudit
import GatewayConfig
import GatewayReports

// Report benchmark (issue 16): a decision log of N records spread over 30 days (with their outcomes and token
// usage), then:
// - the index built from nothing (every segment read once);
// - `report --since 30d` from the index (what every later run costs);
// - the same after more records were appended (the open segment is read from where its summary ended).
// Usage: gateway-bench-report [--records N] [--directory DIR] [--keep]

var records = 1_000_000
var directory = NSTemporaryDirectory() + "report-bench-\(getpid())"
var keep = false
var arguments = CommandLine.arguments.dropFirst().makeIterator()
while let argument = arguments.next() {
    switch argument {
    case "--records": records = Int(arguments.next() ?? "") ?? records
    case "--directory": directory = arguments.next() ?? directory
    case "--keep": keep = true
    default:
        print("usage: gateway-bench-report [--records N] [--directory DIR] [--keep]")
        exit(2)
    }
}

let roles = ["engineer", "analyst", "support", "restricted", "data-science"]
let models = [("openai", "gpt-4o-mini"), ("openai", "gpt-4.1"), ("anthropic", "claude-sonnet-4"), ("anthropic", "claude-haiku-4")]
let rules = (0..<20).map { "rule-\($0)" }
let now = Date()
let span: TimeInterval = 30 * 86_400

/// A deterministic generator (the figures must not depend on the run).
struct SplitMix {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { Int(self.next() % UInt64(n)) }
}

func makeRecord(_ index: Int, total: Int, random: inout SplitMix) -> (DecisionRecord, RequestOutcome?) {
    let time = now.addingTimeInterval(-span + span * Double(index) / Double(total))
    let roll = random.below(100)
    let decision: Decision = roll < 70 ? .allow : roll < 88 ? .redact : roll < 95 ? .block : roll < 97 ? .review : .refused
    let (provider, model) = models[random.below(models.count)]
    let findings: [FindingSummary] = decision == .allow || decision == .refused ? [] : (0..<(1 + random.below(3))).map { _ in
        let rule = rules[random.below(rules.count)]
        return FindingSummary(
            ruleID: rule, category: ["secret", "pii", "pci"][rule.count % 3], type: "t", location: "messages[0].content",
            confidence: 0.9, fingerprint: String(format: "%016llx", random.next()), preview: "…", action: decision.rawValue)
    }
    var record = DecisionRecord(
        id: RecordID.generate(milliseconds: UInt64(time.timeIntervalSince1970 * 1000)), time: UTCTime.format(time),
        requestID: String(format: "%016llx", random.next()), instance: "bench:8443", clientAddress: "10.0.0.\(random.below(250))",
        identity: { () -> Identity in
            // A user keeps one role (as keys map people to roles).
            let user = random.below(400)
            return Identity(user: "user\(user)", role: roles[user % roles.count], keyID: "k\(user)")
        }(),
        provider: provider, method: "POST", target: "/v1/chat/completions", model: model, decision: decision,
        reason: "clean", findings: findings, bytesIn: 2000 + random.below(20000), inspectMs: 0.2,
        ruleSetHash: String(repeating: "a", count: 64), policyHash: String(repeating: "b", count: 64))
    record.bytesForwarded = record.bytesIn
    if random.below(10) < 3 { record.sampled = true }
    guard decision == .allow || decision == .redact else { return (record, nil) }
    var outcome = RequestOutcome(
        id: record.id, upstreamStatus: 200, status: 200, bytesOut: 3000, upstreamMs: 800, totalMs: 800.5 + Double(random.below(100)) / 100)
    outcome.usage = TokenUsage(prompt: 500 + random.below(3000), completion: 100 + random.below(800), cached: random.below(400))
    return (record, outcome)
}

/// Appends `count` records (and outcomes) starting at `first`, 2,000 in flight at a time.
func write(_ location: AuditLocation, first: Int, count: Int, total: Int) async throws {
    var configuration = AuditLogConfiguration(location: location)
    configuration.syncInterval = .milliseconds(200)
    let log = try await AuditLog.open(configuration)
    var random = SplitMix(state: UInt64(first) &+ 42)
    var index = first
    while index < first + count {
        let batch = min(2000, first + count - index)
        var outcomes: [RequestOutcome] = []
        try await withThrowingTaskGroup(of: Void.self) { group in
            for offset in 0..<batch {
                let (record, outcome) = makeRecord(index + offset, total: total, random: &random)
                if let outcome { outcomes.append(outcome) }
                group.addTask {
                    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                        log.append(.record(record), flush: .now) { continuation.resume(with: $0.map { _ in () }) }
                    }
                }
            }
            try await group.waitForAll()
        }
        for chunk in stride(from: 0, to: outcomes.count, by: 200) {
            let slice = Array(outcomes[chunk..<min(chunk + 200, outcomes.count)])
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                log.append(.outcomes(slice), flush: .now) { continuation.resume(with: $0.map { _ in () }) }
            }
        }
        index += batch
    }
    try await log.close()
}

func report(_ location: AuditLocation) -> (Report, SummaryIndex.LoadStatistics, TimeInterval) {
    let started = Date()
    let (summaries, statistics) = SummaryIndex(auditDirectory: location.directory).load()
    let built = ReportBuilder().build(
        summaries: summaries, verdicts: [], queue: QueueSnapshot([], maxAgeSeconds: 3600),
        since: now.addingTimeInterval(-span), until: now.addingTimeInterval(3600), grouping: .role)
    _ = built.renderHTML()
    return (built, statistics, Date().timeIntervalSince(started))
}

func size(_ path: String) -> Int {
    let files = FileManager.default.enumerator(atPath: path)?.compactMap { $0 as? String } ?? []
    return files.reduce(0) { total, file in
        total + ((try? FileManager.default.attributesOfItem(atPath: path + "/" + file)[.size] as? NSNumber)?.intValue ?? 0)
    }
}

let location = AuditLocation(directory: directory + "/audit")
let extra = max(1, records / 100)
let generation = Date()
try await write(location, first: 0, count: records, total: records + extra)
print(String(format: "log: %d records over 30 days, %.0f MB in %d segments, written in %.1f s", records,
             Double(size(location.directory)) / 1e6, SegmentNames.list(in: location.directory).count, Date().timeIntervalSince(generation)))

let (coldReport, cold, coldSeconds) = report(location)
print(String(format: "index built from nothing: %.2f s (%d segments summarised, %.0f MB read), %.1f MB of summaries",
             coldSeconds, cold.summarised, Double(cold.bytesRead) / 1e6, Double(size(location.directory + "/index")) / 1e6))
var warm: [TimeInterval] = []
for _ in 0..<5 { warm.append(report(location).2) }
warm.sort()
print(String(format: "report --since 30d from the index: median %.3f s, max %.3f s (5 runs; %d requests in the report)",
             warm[2], warm[4], coldReport.totals.requests))
try await write(location, first: records, count: extra, total: records + extra)
let (_, extended, extendedSeconds) = report(location)
print(String(format: "after %d more records: %.3f s (%d reused, %d extended, %d summarised, %.1f MB read)", extra, extendedSeconds,
             extended.reused, extended.extended, extended.summarised, Double(extended.bytesRead) / 1e6))
if !keep { try? FileManager.default.removeItem(atPath: directory) }
