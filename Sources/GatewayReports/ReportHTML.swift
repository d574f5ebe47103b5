import Foundation

/// The report as one self-contained HTML page: inline CSS and SVG charts, no script, nothing fetched from
/// elsewhere, so it opens anywhere (a mail attachment, an air-gapped laptop) and shows the same thing.
extension Report {
    static let decisionColours: [(String, String)] = [
        ("allow", "#2e7d32"), ("redact", "#f9a825"), ("block", "#c62828"), ("review", "#6a1b9a"),
        ("released", "#0277bd"), ("uninspected", "#8d6e63"), ("refused", "#757575"), ("error", "#212121"),
    ]

    public func renderHTML() -> String {
        var html = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
            <title>AI gateway report \(Self.escape(self.window.since)) – \(Self.escape(self.window.until))</title>
            <style>
            body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1100px}
            h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd}
            .tiles{display:flex;gap:12px;flex-wrap:wrap}.tile{border:1px solid #ddd;border-radius:6px;padding:10px 14px;min-width:130px}
            .tile b{display:block;font-size:22px}table{border-collapse:collapse;font-size:13px}
            td,th{padding:4px 10px;border-bottom:1px solid #eee;text-align:right}td:first-child,th:first-child{text-align:left}
            .flag{color:#b71c1c}.ok{color:#2e7d32}.legend span{display:inline-block;margin-right:12px;font-size:12px}
            .legend i{display:inline-block;width:10px;height:10px;margin-right:4px}
            </style></head><body>
            <h1>AI gateway: what was sent, kept in and reviewed</h1>
            <p>\(Self.escape(self.window.since)) to \(Self.escape(self.window.until)) · generated \(Self.escape(self.generated))</p>

            """
        let t = self.totals
        html += "<div class=\"tiles\">"
        for (label, value) in [
            ("requests", "\(t.requests)"), ("allowed", Self.percent(t.rates.allowed)), ("redacted", Self.percent(t.rates.redacted)),
            ("blocked", Self.percent(t.rates.blocked)), ("held for review", Self.percent(t.rates.reviewed)),
            ("active users", "\(t.activeUsers)"), ("spend", String(format: "%.2f %@", t.spend, self.currency)),
            ("added latency p50 / p99", self.latency.p50.map { String(format: "%.1f / %.1f ms", $0, self.latency.p99 ?? 0) } ?? "–"),
        ] {
            html += "<div class=\"tile\"><b>\(Self.escape(value))</b>\(Self.escape(label))</div>"
        }
        html += "</div>\n"
        html += "<h2>Flags</h2>" + (self.flags.isEmpty ? "<p class=\"ok\">No target breached.</p>"
            : "<ul>" + self.flags.map { "<li class=\"flag\">\(Self.escape($0))</li>" }.joined() + "</ul>")
        html += "\n<h2>Requests per day</h2>" + self.dayChart() + self.legend()
        html += "\n<h2>Data kept in, by category</h2>"
            + Self.barChart(id: "categories", self.categories.map { ($0.category, Double($0.findings)) }, colour: "#c62828")
        html += "\n<h2>Top rules</h2>"
            + Self.barChart(id: "rules", self.topRules.prefix(10).map { ($0.rule, Double($0.requests)) }, colour: "#ef6c00")
        html += "\n<h2>By \(Self.escape(self.groupedBy))</h2><table><tr><th>\(Self.escape(self.groupedBy))</th><th>requests</th>"
            + "<th>allowed</th><th>redacted</th><th>blocked</th><th>review</th><th>users</th><th>tokens</th><th>spend</th></tr>"
        for group in self.groups {
            html += "<tr><td>\(Self.escape(group.name))</td><td>\(group.requests)</td><td>\(Self.percent(group.rates.allowed))</td>"
                + "<td>\(Self.percent(group.rates.redacted))</td><td>\(Self.percent(group.rates.blocked))</td>"
                + "<td>\(Self.percent(group.rates.reviewed))</td><td>\(group.activeUsers)</td>"
                + "<td>\(group.tokens.prompt + group.tokens.completion)</td><td>\(String(format: "%.2f", group.spend))</td></tr>"
        }
        html += "</table>\n"
        if self.groupedBy != "rule" && self.groupedBy != "category" {
            html += "<h2>Spend by \(Self.escape(self.groupedBy)) (\(Self.escape(self.currency)))</h2>"
                + Self.barChart(id: "spend", self.groups.map { ($0.name, $0.spend) }, colour: "#1565c0")
        }
        let review = self.review
        html += "\n<h2>Review</h2><p>\(review.labelled) decisions labelled of \(review.forwarded) forwarded: coverage "
            + "<b>\(Self.percent(review.coverage))</b>" + (review.coverageTarget.map { " (target \(Self.percent($0)))" } ?? "")
            + "; \(review.sampled) sampled. Queue: \(self.queue.size) waiting, \(self.queue.overdue) overdue.</p>"
        if !review.precision.isEmpty {
            html += "<table><tr><th>rule</th><th>precision</th><th>95% interval</th><th>verdicts</th><th>acceptable FP</th><th>status</th></tr>"
            for rule in review.precision {
                html += "<tr><td>\(Self.escape(rule.rule))</td><td>\(Self.percent(rule.precision.value))</td>"
                    + "<td>\(Self.percent(rule.precision.low))–\(Self.percent(rule.precision.high))</td><td>\(rule.precision.samples)</td>"
                    + "<td>\(rule.acceptableFalsePositiveRate.map(Self.percent) ?? "–")</td>"
                    + "<td class=\"\(rule.status == "ok" ? "ok" : "flag")\">\(Self.escape(rule.status))</td></tr>"
            }
            html += "</table>"
        }
        let drifting = self.drift.filter(\.flagged)
        html += "\n<h2>Drift</h2>" + (drifting.isEmpty ? "<p class=\"ok\">No rule's hit rate moved past its tolerance.</p>"
            : "<table><tr><th>rule</th><th>hits</th><th>previous</th><th>change</th></tr>" + drifting.map {
                "<tr><td>\(Self.escape($0.rule))</td><td>\($0.hits)</td><td>\($0.previousHits)</td><td>"
                    + ($0.change.map { String(format: "%+.0f%%", $0 * 100) } ?? "new") + "</td></tr>" }.joined() + "</table>")
        html += "\n</body></html>\n"
        return html
    }

    /// Stacked bars: one per day, one colour per decision.
    func dayChart() -> String {
        let width = 900.0, height = 220.0, left = 50.0, bottom = 30.0
        let maximum = Double(self.days.map { $0.decisions.values.reduce(0, +) }.max() ?? 0)
        guard maximum > 0 else { return "<p>No requests in this window.</p>" }
        let slot = (width - left) / Double(max(1, self.days.count))
        let barWidth = max(2, slot * 0.7)
        var svg = "<svg id=\"chart-days\" xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" role=\"img\" aria-label=\"requests per day by decision\">"
        svg += "<line x1=\"\(left)\" y1=\"\(height - bottom)\" x2=\"\(width)\" y2=\"\(height - bottom)\" stroke=\"#999\"/>"
        svg += "<text x=\"0\" y=\"14\" font-size=\"11\">\(Int(maximum))</text>"
        for (position, day) in self.days.enumerated() {
            var y = height - bottom
            let x = left + Double(position) * slot
            for (decision, colour) in Self.decisionColours {
                let count = Double(day.decisions[decision, default: 0])
                guard count > 0 else { continue }
                let barHeight = count / maximum * (height - bottom - 10)
                y -= barHeight
                svg += String(format: "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%@\"><title>%@ %@: %d</title></rect>",
                              x, y, barWidth, barHeight, colour, Self.escape(day.day), decision, Int(count))
            }
            if self.days.count <= 31 {
                svg += String(format: "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\">%@</text>", x, height - 12, Self.escape(String(day.day.suffix(5))))
            }
        }
        return svg + "</svg>"
    }

    func legend() -> String {
        "<div class=\"legend\">" + Self.decisionColours.map { "<span><i style=\"background:\($0.1)\"></i>\($0.0)</span>" }.joined() + "</div>"
    }

    /// Horizontal bars, largest first.
    static func barChart(id: String, _ items: [(String, Double)], colour: String) -> String {
        guard let maximum = items.map(\.1).max(), maximum > 0 else { return "<p>None.</p>" }
        let rowHeight = 22.0, labelWidth = 220.0, barSpace = 560.0
        var svg = "<svg id=\"chart-\(id)\" xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(labelWidth + barSpace + 90))\" height=\"\(Int(rowHeight * Double(items.count) + 4))\" role=\"img\">"
        for (row, (label, value)) in items.enumerated() {
            let y = Double(row) * rowHeight
            let barWidth = max(1, value / maximum * barSpace)
            svg += String(format: "<text x=\"0\" y=\"%.1f\" font-size=\"12\">%@</text>", y + 15, Self.escape(String(label.prefix(34))))
            svg += String(format: "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"16\" fill=\"%@\"/>", labelWidth, y + 3, barWidth, colour)
            svg += String(format: "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\">%@</text>", labelWidth + barWidth + 6, y + 15,
                          value == value.rounded() ? String(Int(value)) : String(format: "%.2f", value))
        }
        return svg + "</svg>"
    }

    static func percent(_ value: Double) -> String { String(format: "%.1f%%", value * 100) }

    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }
}
