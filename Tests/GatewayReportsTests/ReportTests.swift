import Foundation
import GatewayAudit
import GatewayConfig
import Testing
@testable import GatewayReports

/// Reports from decision records: figures, drift, precision from verdicts, spend, the index and the HTML page.
@Suite("Reports")
struct ReportTests {
    static let day: TimeInterval = 86_400
    /// A fixed "now", so windows are reproducible: the current window is the 7 days before it.
    static let now = Date(timeIntervalSince1970: 1_780_000_000 - 1_780_000_000.truncatingRemainder(dividingBy: 3600))

    static func record(
        at time: Date, user: String = "ana", role: String = "engineer", decision: Decision = .allow,
        rules: [String] = [], model: String = "gpt-4o-mini", sampled: Bool = false
    ) -> DecisionRecord {
        var record = DecisionRecord(
            id: RecordID.generate(milliseconds: UInt64(time.timeIntervalSince1970 * 1000)),
            time: UTCTime.format(time), requestID: UUID().uuidString, instance: "test", clientAddress: nil,
            identity: Identity(user: user, role: role), provider: "openai", method: "POST", target: "/v1/chat/completions",
            model: model, decision: decision, reason: "clean",
            findings: rules.map {
                FindingSummary(ruleID: $0, category: $0.hasPrefix("card") ? "pci" : "pii", type: "t", location: "$",
                               confidence: 0.9, fingerprint: "f", preview: "…", action: decision == .block ? "block" : "redact")
            }, bytesIn: 100, ruleSetHash: nil, policyHash: nil)
        if sampled { record.sampled = true }
        return record
    }

    /// Writes `records` (each with an outcome using 1,000 prompt and 200 completion tokens when forwarded) to a fresh
    /// log, in segments of `segmentBytes`.
    static func writeLog(_ records: [DecisionRecord], segmentBytes: Int = 64 << 20) async throws -> AuditLocation {
        let location = AuditLocation(directory: NSTemporaryDirectory() + "reports-\(UUID().uuidString)/audit")
        var configuration = AuditLogConfiguration(location: location)
        configuration.maxSegmentBytes = segmentBytes
        let log = try await AuditLog.open(configuration)
        for record in records {
            try await log.append(record)
            guard [.allow, .redact].contains(record.decision) else { continue }
            var outcome = RequestOutcome(id: record.id, upstreamStatus: 200, status: 200, bytesOut: 10, upstreamMs: 100, totalMs: 101.5)
            outcome.usage = TokenUsage(prompt: 1000, completion: 200, cached: 400)
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                log.append(.outcomes([outcome]), flush: .now) { continuation.resume(with: $0.map { _ in () }) }
            }
        }
        try await log.close()
        return location
    }

    static func report(
        _ location: AuditLocation, verdicts: [ReviewEvent] = [], review: ReviewPolicy = ReviewPolicy(),
        prices: PriceTable = PriceTable(), by grouping: ReportBuilder.Grouping = .role
    ) -> Report {
        let (summaries, _) = SummaryIndex(auditDirectory: location.directory).load()
        return ReportBuilder(review: review, prices: prices).build(
            summaries: summaries, verdicts: verdicts, queue: QueueSnapshot([], maxAgeSeconds: 3600),
            since: now.addingTimeInterval(-7 * day), until: now, grouping: grouping, now: now)
    }

    @Test("Counts, rates, users, tokens and spend per role; only the window's records count")
    func figures() async throws {
        var records: [DecisionRecord] = []
        for index in 0..<10 { records.append(Self.record(at: Self.now.addingTimeInterval(-Double(index + 1) * 3600), user: "u\(index % 3)")) }
        records.append(Self.record(at: Self.now.addingTimeInterval(-7200), role: "analyst", decision: .block, rules: ["card-number"]))
        records.append(Self.record(at: Self.now.addingTimeInterval(-7200), role: "analyst", decision: .redact, rules: ["email"]))
        records.append(Self.record(at: Self.now.addingTimeInterval(-10 * Self.day)))  // previous window
        let location = try await Self.writeLog(records)
        let prices = PriceTable(entries: [.init(provider: "openai", model: try GlobPattern("gpt-4o-mini*"), input: 0.15, output: 0.6, cachedInput: 0.075)])
        let report = Self.report(location, prices: prices)
        #expect(report.totals.requests == 12)
        let engineer = try #require(report.groups.first { $0.name == "engineer" })
        let analyst = try #require(report.groups.first { $0.name == "analyst" })
        #expect(engineer.requests == 10 && engineer.activeUsers == 3)
        #expect(analyst.rates.blocked == 0.5 && analyst.rates.redacted == 0.5)
        #expect(engineer.tokens == Report.Tokens(prompt: 10_000, completion: 2_000, cached: 4_000))
        // 600 uncached × 0.15 + 400 cached × 0.075 + 200 × 0.6 per request, per million.
        #expect(abs(engineer.spend - 10 * (600 * 0.15 + 400 * 0.075 + 200 * 0.6) / 1e6) < 1e-9)
        #expect(report.categories.map(\.category).sorted() == ["pci", "pii"])
        #expect(report.latency.samples == 11)
        #expect(abs((report.latency.p50 ?? 0) - 1.5) < 0.1, "added latency is total less the vendor's time")
        let byRule = Self.report(location, by: .rule)
        #expect(byRule.groups.first { $0.name == "card-number" }?.decisions["block"] == 1)
    }

    @Test("A drift flag appears when a rule's hit rate jumps between windows, not when it holds")
    func drift() async throws {
        var records: [DecisionRecord] = []
        for index in 0..<100 {
            let before = Self.now.addingTimeInterval(-10 * Self.day + Double(index) * 60)
            let after = Self.now.addingTimeInterval(-3 * Self.day + Double(index) * 60)
            records.append(Self.record(at: before, decision: .redact, rules: (index < 20 ? ["email"] : []) + (index < 30 ? ["phone"] : [])))
            records.append(Self.record(at: after, decision: .redact, rules: (index < 60 ? ["email"] : []) + (index < 30 ? ["phone"] : [])))
        }
        let report = Self.report(try await Self.writeLog(records))
        let email = try #require(report.drift.first { $0.rule == "email" })
        let phone = try #require(report.drift.first { $0.rule == "phone" })
        #expect(email.flagged && email.hits == 60 && email.previousHits == 20)
        #expect(!phone.flagged, "an unchanged rate is not drift")
        #expect(report.flags.contains { $0.contains("email drifted") })
    }

    @Test("Verdicts change the precision figures and flag a rule past its acceptable false-positive rate")
    func precision() async throws {
        let records = (0..<40).map { Self.record(at: Self.now.addingTimeInterval(-Double($0 + 1) * 600), decision: .redact, rules: ["email"]) }
        let location = try await Self.writeLog(records)
        let review = ReviewPolicy(targets: ReviewTargets(coverage: 0.5, maxFalsePositiveRate: 0.05))
        let before = Self.report(location, review: review)
        #expect(before.review.precision.isEmpty)
        #expect(before.review.coverageBreached, "nothing labelled: coverage 0 < 50%")

        func label(_ record: DecisionRecord, _ verdict: ReviewEvent.Verdict) -> ReviewEvent {
            ReviewEvent(id: record.id, time: UTCTime.format(Self.now.addingTimeInterval(-60)), action: .label, reviewer: "r",
                        verdict: verdict, rules: ["email"])
        }
        let mostlyRight = records.prefix(20).map { label($0, .correct) }
        let good = Self.report(location, verdicts: mostlyRight, review: review)
        let figure = try #require(good.review.precision.first)
        #expect(figure.precision.value == 1 && figure.status == "ok")
        #expect(good.review.coverage == 0.5 && !good.review.coverageBreached)

        // Verdicts on requests that were not forwarded say nothing of coverage.
        let blockedRecord = Self.record(at: Self.now.addingTimeInterval(-120), decision: .block, rules: ["email"])
        var onBlocked = (0..<30).map { _ in label(blockedRecord, .correct) }
        for index in onBlocked.indices {
            onBlocked[index].id = RecordID.generate()
            onBlocked[index].subjectDecision = .block
            onBlocked[index].subjectTime = blockedRecord.time
        }
        let blockedOnly = Self.report(location, verdicts: onBlocked, review: review)
        #expect(blockedOnly.review.coverage == 0 && blockedOnly.review.coverageBreached)
        #expect(blockedOnly.review.labelled == 30)

        let wrong = records.prefix(20).enumerated().map { label($1, $0 < 10 ? .falsePositive : .correct) }
        let bad = Self.report(location, verdicts: wrong, review: review)
        let worse = try #require(bad.review.precision.first)
        #expect(worse.precision.value == 0.5, "the last verdict per record counts")
        #expect(worse.precision.low < 0.5 && worse.precision.high > 0.5)
        #expect(worse.status == "breached")
        #expect(bad.flags.contains { $0.contains("rule email") })
    }

    @Test("The index is built once, reused, and extended with appended lines; figures are the same either way")
    func index() async throws {
        let records = (0..<300).map { Self.record(at: Self.now.addingTimeInterval(-Double($0 + 1) * 60), decision: .redact, rules: ["email"]) }
        let location = try await Self.writeLog(records, segmentBytes: 32 * 1024)
        let index = SummaryIndex(auditDirectory: location.directory)
        let first = index.load()
        #expect(first.statistics.segments > 3 && first.statistics.summarised == first.statistics.segments)
        let second = index.load()
        #expect(second.statistics.reused == second.statistics.segments && second.statistics.bytesRead == 0)
        #expect(Self.report(location).totals == ReportBuilder().build(
            summaries: SegmentSummary.freshly(location), verdicts: [], queue: QueueSnapshot([], maxAgeSeconds: 1),
            since: Self.now.addingTimeInterval(-7 * Self.day), until: Self.now, grouping: .role, now: Self.now).totals)
        #expect(Self.report(location).totals.tokens.prompt == 300_000, "outcomes in the next segment are joined")

        // A segment whose lines changed under its summary (cut back and written again) is summarised anew, not
        // extended from a stale offset.
        let segments = SegmentNames.list(in: location.directory)
        let lastFile = URL(fileURLWithPath: location.directory + "/" + SegmentNames.name(segments.last!))
        let firstFile = URL(fileURLWithPath: location.directory + "/" + SegmentNames.name(segments.first!))
        let other = try Data(contentsOf: firstFile)
        let original = try Data(contentsOf: lastFile)
        try (other.count > original.count ? other : other + other).write(to: lastFile)
        let rewritten = index.load()
        #expect(rewritten.statistics.summarised == 1 && rewritten.statistics.extended == 0)
    }

    @Test("The HTML page is self-contained: charts inline, no script, nothing fetched")
    func html() async throws {
        var records: [DecisionRecord] = []
        for index in 0..<50 {
            let time = Self.now.addingTimeInterval(-Double(index) * 7000 - 60)
            let blocked = index % 5 == 0
            records.append(Self.record(at: time, decision: blocked ? .block : .allow, rules: blocked ? ["card-number"] : []))
        }
        let page = Self.report(try await Self.writeLog(records)).renderHTML()
        #expect(page.contains("<svg id=\"chart-days\""))
        #expect(page.contains("<svg id=\"chart-categories\""))
        #expect(page.components(separatedBy: "class=\"bar\"").count > 10)
        #expect(!page.lowercased().contains("<script"))
        #expect(!page.contains("src=") && !page.contains("href="))
        let json = try JSONEncoder().encode(Self.report(try await Self.writeLog(records)))
        let decoded = try JSONDecoder().decode(Report.self, from: json)
        #expect(decoded.schema == Report.currentSchema)
    }

    @Test("Wilson intervals: exact at the edges, narrower with more verdicts")
    func wilson() throws {
        let few = try #require(Statistics.wilson(successes: 8, trials: 10))
        let many = try #require(Statistics.wilson(successes: 800, trials: 1000))
        #expect(few.high - few.low > many.high - many.low)
        #expect(abs(few.low - 0.4902) < 0.001 && abs(few.high - 0.9433) < 0.001)
        #expect(Statistics.wilson(successes: 0, trials: 0) == nil)
    }
}

extension SegmentSummary {
    /// Summaries straight from the segments, without the index (to compare with it).
    static func freshly(_ location: AuditLocation) -> [SegmentSummary] {
        SummaryIndex.joined(SegmentNames.list(in: location.directory).map { index in
            SegmentSummary.summarise(
                AuditReader.entries(file: location.directory + "/" + SegmentNames.name(index)), segmentBytes: 0, segmentModified: 0)
        })
    }
}
