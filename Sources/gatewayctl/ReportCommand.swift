import ArgumentParser
import Foundation
import GatewayAudit
import GatewayConfig
import GatewayReports

/// `gatewayctl report`: requests, decisions, findings, drift, review coverage and precision, queue, adoption,
/// tokens and spend, and the gateway's added latency, over a window, from the per-segment summaries.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Usage, decisions, review coverage, precision, drift and spend over a window (text, --json or --html).",
        discussion: """
            Reads per-segment summaries kept in <audit directory>/index/ (built on first use, then only new lines are \
            read), the review log's verdicts and the queue. Targets, sampling and prices come from the policy \
            (review:, prices:) of --config (default gateway.yaml). Windows are whole hours (UTC); drift compares with \
            the window of the same length just before.
            """
    )

    @OptionGroup var location: LogCommand.Location
    @Option(name: .long, help: "Window start: 7d, 24h, 30m, or a UTC time.") var since: String = "7d"
    @Option(name: .long, help: "Window end (same forms); default now.") var until: String?
    @Option(name: .long, help: "Group by role, user, provider, rule or category.") var by: String = "role"
    @Flag(name: .long, help: "Print the report as JSON (stable schema, docs/reports.md).") var json = false
    @Option(name: .long, help: "Write a self-contained HTML page (inline SVG charts, no scripts) to FILE.") var html: String?
    @Flag(name: .long, help: "Say how much of the log was read and how long it took (on standard error).") var verbose = false

    func run() throws {
        guard let grouping = ReportBuilder.Grouping(rawValue: self.by) else {
            throw ValidationError("--by must be one of: \(ReportBuilder.Grouping.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let started = Date()
        let since = try LogTable.parseTime(self.since)
        let until = try self.until.map(LogTable.parseTime) ?? Date()
        guard since < until else { throw ValidationError("--since must be before --until") }
        let location = self.location.resolved
        let policy = try self.policy()
        let (summaries, statistics) = SummaryIndex(auditDirectory: location.directory).load()
        let store = try LocalReviewStore(location: location)
        let queue = QueueSnapshot(try store.queue(now: Date()), maxAgeSeconds: policy.review.maxQueueAgeSeconds)
        let report = ReportBuilder(review: policy.review, prices: policy.prices).build(
            summaries: summaries, verdicts: store.verdicts(), queue: queue, since: since, until: until, grouping: grouping)
        if let html {
            try Data(report.renderHTML().utf8).write(to: URL(fileURLWithPath: html))
            if !self.json { print("wrote \(html)") }
        }
        if self.json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else if self.html == nil {
            print(report.renderText())
        }
        if self.verbose {
            FileHandle.standardError.write(Data(String(
                format: "segments %d (reused %d, extended %d, summarised %d), %d bytes read, %.3f s\n", statistics.segments,
                statistics.reused, statistics.extended, statistics.summarised, statistics.bytesRead,
                Date().timeIntervalSince(started)).utf8))
        }
    }

    /// The review settings and prices of the configured policy; defaults (no targets, no prices) when there is no
    /// configuration here. A `--config` that does not load is an error, not a silent default.
    private func policy() throws -> (review: ReviewPolicy, prices: PriceTable) {
        let path = self.location.config ?? ConfigLoader.defaultPath
        guard self.location.config != nil || FileManager.default.fileExists(atPath: path) else {
            return (ReviewPolicy(), PriceTable())
        }
        let policy = try ConfigLoader.load(path: path).rolePolicy
        return (policy.review, policy.prices)
    }
}
