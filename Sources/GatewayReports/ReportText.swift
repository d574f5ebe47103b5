import Foundation

extension Report {
    /// The report for a terminal: headline figures, the groups, findings, review and drift, then the flags.
    public func renderText() -> String {
        var lines: [String] = []
        func percent(_ value: Double) -> String { String(format: "%.1f%%", value * 100) }
        func money(_ value: Double) -> String { String(format: "%.2f %@", value, self.currency) }
        lines.append("Report \(self.window.since) → \(self.window.until) (previous window from \(self.previousWindow.since))")
        let t = self.totals
        lines.append("requests \(t.requests): allowed \(percent(t.rates.allowed)), redacted \(percent(t.rates.redacted)), "
            + "blocked \(percent(t.rates.blocked)), held for review \(percent(t.rates.reviewed)); "
            + "active users \(t.activeUsers)")
        lines.append("tokens: prompt \(t.tokens.prompt), completion \(t.tokens.completion), cached \(t.tokens.cached); "
            + "spend \(money(t.spend))" + (t.unpricedRequests > 0 ? " (\(t.unpricedRequests) requests without a price)" : ""))
        if let p50 = self.latency.p50, let p99 = self.latency.p99 {
            lines.append(String(format: "gateway added latency: p50 %.2f ms, p99 %.2f ms (%d requests)", p50, p99, self.latency.samples))
        }
        lines.append("")
        lines.append(Self.row(self.groupedBy.uppercased(), "REQUESTS", "ALLOW", "REDACT", "BLOCK", "REVIEW", "USERS", "TOKENS", "SPEND"))
        for group in self.groups {
            lines.append(Self.row(
                group.name, "\(group.requests)", percent(group.rates.allowed), percent(group.rates.redacted),
                percent(group.rates.blocked), percent(group.rates.reviewed), "\(group.activeUsers)",
                "\(group.tokens.prompt + group.tokens.completion)", String(format: "%.2f", group.spend)))
        }
        lines.append("")
        lines.append("FINDINGS BY CATEGORY: " + self.categories.map { "\($0.category) \($0.findings) (\($0.requests) requests)" }.joined(separator: ", "))
        lines.append("TOP RULES: " + self.topRules.prefix(10).map { "\($0.rule) \($0.requests)" }.joined(separator: ", "))
        let review = self.review
        lines.append("")
        lines.append("REVIEW: \(review.labelled) decisions labelled of \(review.forwarded) forwarded (coverage \(percent(review.coverage))"
            + (review.coverageTarget.map { ", target \(percent($0))" } ?? "") + "); \(review.sampled) sampled; verdicts "
            + ReviewVerdictOrder.map { "\($0) \(review.verdicts[$0, default: 0])" }.joined(separator: ", "))
        if let missed = review.missedRate {
            lines.append("missed rate \(percent(missed.value)) (95% \(percent(missed.low))–\(percent(missed.high)))"
                + (review.missedRateTarget.map { ", target ≤ \(percent($0))" } ?? ""))
        }
        for rule in review.precision {
            lines.append("  precision \(rule.rule): \(percent(rule.precision.value)) (95% \(percent(rule.precision.low))–"
                + "\(percent(rule.precision.high)), \(rule.correct) correct, \(rule.falsePositive) false positives) \(rule.status)")
        }
        lines.append("QUEUE: \(self.queue.size) waiting, oldest \(Int(self.queue.oldestAgeSeconds / 60)) min, \(self.queue.overdue) overdue")
        let drifting = self.drift.filter(\.flagged)
        lines.append("DRIFT: " + (drifting.isEmpty ? "none flagged" : drifting.map {
            "\($0.rule) \($0.previousHits)→\($0.hits)" }.joined(separator: ", ")))
        lines.append("")
        lines.append(self.flags.isEmpty ? "No flags." : "FLAGS:\n" + self.flags.map { "  ! " + $0 }.joined(separator: "\n"))
        return lines.joined(separator: "\n")
    }

    static func row(_ columns: String...) -> String {
        let widths = [28, 9, 8, 8, 8, 8, 6, 12, 10]
        return zip(columns, widths).map { text, width in
            text.count >= width ? text + " " : text.padding(toLength: width, withPad: " ", startingAt: 0)
        }.joined()
    }
}

/// The verdicts in the order reports list them.
let ReviewVerdictOrder = ["correct", "false-positive", "missed"]
