import Foundation
import GatewayAudit
import GatewayConfig
import GatewayReports

/// Turns the review targets into metrics: every few minutes, the last 7 days' report (from the per-segment
/// summaries, so only new lines are read) sets `gateway_review_coverage_ratio` and
/// `gateway_review_target_breaches{kind=…}` (coverage, missed_rate, precision, drift, queue_age), the flags
/// `gatewayctl report` prints. An alert rule on `gateway_review_target_breaches > 0` tells the team when a control slips.
struct GovernanceMonitor: Sendable {
    static let window: TimeInterval = 7 * 86_400
    let records: any RecordSummaries
    let store: any ReviewStore

    /// The report the metrics are read from.
    func evaluate(policy: RolePolicy, now: Date = Date()) throws -> Report {
        let summaries = self.records.summaries()
        let queue = QueueSnapshot(try self.store.queue(now: now), maxAgeSeconds: policy.review.maxQueueAgeSeconds)
        return ReportBuilder(review: policy.review, prices: policy.prices).build(
            summaries: summaries, verdicts: self.store.verdicts(), queue: queue, since: now.addingTimeInterval(-Self.window),
            until: now, grouping: .role, now: now)
    }

    /// Breaches by kind, every kind present (0 when none).
    static func breaches(_ report: Report) -> [String: Int] {
        [
            "coverage": report.review.coverageBreached ? 1 : 0,
            "missed_rate": report.review.missedRateBreached ? 1 : 0,
            "precision": report.review.precision.filter { $0.status == "breached" }.count,
            "drift": report.drift.filter(\.flagged).count,
            "queue_age": report.queue.overdue,
        ]
    }
}
