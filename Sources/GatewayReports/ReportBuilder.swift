import Foundation
import GatewayAudit
import GatewayConfig

/// Adds segment summaries, verdicts and the queue up into a `Report` for one window.
public struct ReportBuilder: Sendable {
    public enum Grouping: String, Sendable, CaseIterable {
        case role, user, provider, rule, category
    }

    public var review: ReviewPolicy
    public var prices: PriceTable

    public init(review: ReviewPolicy = ReviewPolicy(), prices: PriceTable = PriceTable()) {
        self.review = review
        self.prices = prices
    }

    static let decisions = Decision.allCases.map(\.rawValue)

    /// The report for [since, until), grouped by `grouping`.
    /// - Parameter verdicts: the review log's `label` events (the last one per record counts).
    public func build(
        summaries: [SegmentSummary], verdicts: [ReviewEvent], queue: QueueSnapshot, since: Date, until: Date,
        grouping: Grouping, now: Date = Date()
    ) -> Report {
        let window = Self.window(since, until)
        let length = until.timeIntervalSince(since)
        let previous = Self.window(since.addingTimeInterval(-length), since)
        var current: [CellKey: SummaryCell] = [:]
        var before: [CellKey: SummaryCell] = [:]
        var users: [UserKey: UserCell] = [:]
        let firstDay = window.since.prefix(10)
        let lastDay = UTCTime.format(until.addingTimeInterval(-1)).prefix(10)
        var categoriesOfRules: [String: String] = [:]
        for summary in summaries {
            categoriesOfRules.merge(summary.ruleCategories) { first, _ in first }
            if let last = summary.lastTime, last < previous.since { continue }
            if let first = summary.firstTime, first.prefix(13) >= window.until.prefix(13) { continue }
            for (key, cell) in summary.users where key.day >= firstDay && key.day <= lastDay {
                users[key, default: UserCell()].merge(cell)
            }
            for (key, cell) in summary.cells {
                if key.hour >= window.since.prefix(13) && key.hour < window.until.prefix(13) {
                    current[key, default: SummaryCell()].merge(cell)
                } else if key.hour >= previous.since.prefix(13) && key.hour < previous.until.prefix(13) {
                    before[key, default: SummaryCell()].merge(cell)
                }
            }
        }
        let totals = self.group(name: "all", cells: Array(current), users: Array(users))
        let groups = self.groups(current, users: users, by: grouping)
        var report = Report(
            generated: UTCTime.format(now), window: window, previousWindow: previous, groupedBy: grouping.rawValue,
            totals: totals, groups: groups, days: Self.days(current), categories: Self.categories(current),
            topRules: Self.topRules(current, categories: categoriesOfRules),
            drift: self.drift(current, before), review: self.reviewFigures(current, verdicts: verdicts, window: window,
                                                                           categories: categoriesOfRules),
            queue: Report.QueueFigures(
                size: queue.size, oldestAgeSeconds: queue.oldestAgeSeconds, overdue: queue.overdue,
                maxAgeSeconds: self.review.maxQueueAgeSeconds),
            latency: Self.latency(current), currency: self.prices.currency, flags: [])
        report.flags = Self.flags(report)
        return report
    }

    // MARK: - Groups

    func groups(_ cells: [CellKey: SummaryCell], users: [UserKey: UserCell], by grouping: Grouping) -> [Report.Group] {
        switch grouping {
        case .role, .provider:
            var byName: [String: [(CellKey, SummaryCell)]] = [:]
            var usersByName: [String: [(UserKey, UserCell)]] = [:]
            for (key, cell) in cells { byName[grouping == .role ? key.role : key.provider, default: []].append((key, cell)) }
            for (key, cell) in users { usersByName[grouping == .role ? key.role : key.provider, default: []].append((key, cell)) }
            return byName.map { self.group(name: $0.key, cells: $0.value, users: usersByName[$0.key] ?? []) }
                .sorted { ($0.requests, $1.name) > ($1.requests, $0.name) }
        case .user:
            var byName: [String: [(UserKey, UserCell)]] = [:]
            for (key, cell) in users { byName[key.user, default: []].append((key, cell)) }
            return byName.map { self.userGroup(name: $0.key, users: $0.value) }
                .sorted { ($0.requests, $1.name) > ($1.requests, $0.name) }
        case .rule, .category:
            var byName: [String: [String: Int]] = [:]
            for cell in cells.values {
                let source = grouping == .rule ? cell.ruleDecisions : cell.categoryDecisions
                for (name, decisions) in source { byName[name, default: [:]].merge(decisions, uniquingKeysWith: +) }
            }
            return byName.map { name, decisions in
                let requests = decisions.values.reduce(0, +)
                return Report.Group(
                    name: name, requests: requests, decisions: Self.complete(decisions),
                    rates: Self.rates(decisions, requests: requests), activeUsers: 0,
                    tokens: Report.Tokens(prompt: 0, completion: 0, cached: 0), spend: 0, unpricedRequests: 0)
            }.sorted { ($0.requests, $1.name) > ($1.requests, $0.name) }
        }
    }

    func group(name: String, cells: [(CellKey, SummaryCell)], users: [(UserKey, UserCell)]) -> Report.Group {
        let active = Set(users.map(\.0.user).filter { $0 != "-" }).count
        return self.pricedGroup(
            name: name, parts: cells.map { ($0.0.provider, $0.0.model, $0.1.requests, $0.1.decisions, $0.1.tokens) },
            activeUsers: active)
    }

    /// A user's figures (day granularity), spend included.
    func userGroup(name: String, users: [(UserKey, UserCell)]) -> Report.Group {
        self.pricedGroup(
            name: name, parts: users.map { ($0.0.provider, $0.0.model, $0.1.requests, $0.1.decisions, $0.1.tokens) },
            activeUsers: 1)
    }

    /// One group from its parts, each priced by its provider and model.
    private func pricedGroup(
        name: String, parts: [(provider: String, model: String, requests: Int, decisions: [String: Int], tokens: TokenTally)],
        activeUsers: Int
    ) -> Report.Group {
        var (requests, decisions, tokens) = (0, [String: Int](), TokenTally())
        var (spend, unpriced) = (0.0, 0)
        for part in parts {
            requests += part.requests
            decisions.merge(part.decisions, uniquingKeysWith: +)
            tokens.merge(part.tokens)
            guard part.tokens.answers > 0 else { continue }
            if let price = self.prices.price(provider: part.provider, model: part.model) {
                spend += price.cost(prompt: part.tokens.prompt, completion: part.tokens.completion, cached: part.tokens.cached)
            } else {
                unpriced += part.tokens.answers
            }
        }
        return Report.Group(
            name: name, requests: requests, decisions: Self.complete(decisions),
            rates: Self.rates(decisions, requests: requests), activeUsers: activeUsers,
            tokens: Report.Tokens(prompt: tokens.prompt, completion: tokens.completion, cached: tokens.cached),
            spend: (spend * 1_000_000).rounded() / 1_000_000, unpricedRequests: unpriced)
    }

    static func complete(_ decisions: [String: Int]) -> [String: Int] {
        var all = Dictionary(uniqueKeysWithValues: Self.decisions.map { ($0, 0) })
        all.merge(decisions, uniquingKeysWith: +)
        return all
    }

    static func rates(_ decisions: [String: Int], requests: Int) -> Report.Rates {
        func share(_ names: String...) -> Double {
            requests == 0 ? 0 : Double(names.reduce(0) { $0 + decisions[$1, default: 0] }) / Double(requests)
        }
        return Report.Rates(
            allowed: share("allow", "released", "uninspected"), redacted: share("redact"), blocked: share("block"),
            reviewed: share("review"))
    }

    // MARK: - Findings, days, latency

    static func categories(_ cells: [CellKey: SummaryCell]) -> [Report.CategoryFigures] {
        var findings: [String: Int] = [:]
        var decisions: [String: [String: Int]] = [:]
        for cell in cells.values {
            findings.merge(cell.categoryFindings, uniquingKeysWith: +)
            for (category, counts) in cell.categoryDecisions { decisions[category, default: [:]].merge(counts, uniquingKeysWith: +) }
        }
        return findings.map { category, count in
            Report.CategoryFigures(
                category: category, findings: count, requests: decisions[category, default: [:]].values.reduce(0, +),
                decisions: decisions[category, default: [:]])
        }.sorted { ($0.findings, $1.category) > ($1.findings, $0.category) }
    }

    static func ruleHits(_ cells: [CellKey: SummaryCell]) -> [String: Int] {
        var hits: [String: Int] = [:]
        for cell in cells.values {
            for (rule, decisions) in cell.ruleDecisions { hits[rule, default: 0] += decisions.values.reduce(0, +) }
        }
        return hits
    }

    static func topRules(_ cells: [CellKey: SummaryCell], categories: [String: String]) -> [Report.RuleFigures] {
        Self.ruleHits(cells).map { Report.RuleFigures(rule: $0.key, category: categories[$0.key] ?? "-", requests: $0.value) }
            .sorted { ($0.requests, $1.rule) > ($1.requests, $0.rule) }.prefix(20).map { $0 }
    }

    static func days(_ cells: [CellKey: SummaryCell]) -> [Report.Day] {
        var days: [String: [String: Int]] = [:]
        for (key, cell) in cells { days[String(key.hour.prefix(10)), default: [:]].merge(cell.decisions, uniquingKeysWith: +) }
        return days.keys.sorted().map { Report.Day(day: $0, decisions: Self.complete(days[$0]!)) }
    }

    static func latency(_ cells: [CellKey: SummaryCell]) -> Report.Latency {
        var histogram = LatencyHistogram()
        for cell in cells.values { histogram.merge(cell.latency) }
        func round(_ value: Double?) -> Double? { value.map { ($0 * 1000).rounded() / 1000 } }
        return Report.Latency(
            p50: round(histogram.percentile(0.5)), p99: round(histogram.percentile(0.99)), samples: histogram.count)
    }

    // MARK: - Drift

    func drift(_ current: [CellKey: SummaryCell], _ before: [CellKey: SummaryCell]) -> [Report.Drift] {
        let now = Self.ruleHits(current)
        let then = Self.ruleHits(before)
        let requests = current.values.reduce(0) { $0 + $1.requests }
        let previousRequests = before.values.reduce(0) { $0 + $1.requests }
        let settings = self.review.drift
        return Set(now.keys).union(then.keys).map { rule in
            let hits = now[rule, default: 0]
            let previousHits = then[rule, default: 0]
            let rate = requests == 0 ? 0 : Double(hits) / Double(requests)
            let previousRate = previousRequests == 0 ? 0 : Double(previousHits) / Double(previousRequests)
            let change: Double? = previousRate == 0 ? nil : rate / previousRate - 1
            let enough = max(hits, previousHits) >= settings.minimumHits && requests > 0 && previousRequests > 0
            let flagged = enough && (change.map { abs($0) > settings.tolerance } ?? true)
            return Report.Drift(
                rule: rule, hits: hits, previousHits: previousHits, rate: rate, previousRate: previousRate, change: change,
                flagged: flagged)
        }.sorted { ($0.flagged ? 1 : 0, abs($0.change ?? .infinity), $1.rule) > ($1.flagged ? 1 : 0, abs($1.change ?? .infinity), $0.rule) }
    }

    // MARK: - Review

    func reviewFigures(
        _ cells: [CellKey: SummaryCell], verdicts: [ReviewEvent], window: Report.Window, categories: [String: String]
    ) -> Report.ReviewFigures {
        var last: [RecordID: ReviewEvent] = [:]
        for event in verdicts where event.action == .label && event.verdict != nil
            && event.time >= window.since && event.time < window.until
        {
            last[event.id] = event
        }
        var counts: [String: Int] = [:]
        var perRule: [String: (correct: Int, falsePositive: Int)] = [:]
        for event in last.values {
            guard let verdict = event.verdict else { continue }
            counts[verdict.rawValue, default: 0] += 1
            for rule in event.rules ?? [] {
                switch verdict {
                case .correct: perRule[rule, default: (0, 0)].correct += 1
                case .falsePositive: perRule[rule, default: (0, 0)].falsePositive += 1
                case .missed: break
                }
            }
        }
        let targets = self.review.targets
        let forwarded = cells.values.reduce(0) { $0 + $1.forwarded }
        let sampled = cells.values.reduce(0) { $0 + $1.sampled }
        let labelled = last.count
        // Coverage: labelled requests that were forwarded in this window, per forwarded request of it (verdicts on
        // blocked or held requests measure precision, not coverage).
        let covering = last.values.filter { event in
            let forwardedSubject = event.subjectDecision.map(SegmentSummary.forwards) ?? true
            let time = event.subjectTime ?? event.time
            return forwardedSubject && time >= window.since && time < window.until
        }.count
        let coverage = forwarded == 0 ? 0 : Double(min(covering, forwarded)) / Double(forwarded)
        let missed = Statistics.wilson(successes: counts["missed", default: 0], trials: labelled)
        let precision = perRule.map { rule, tally -> Report.Precision in
            let estimate = Statistics.wilson(successes: tally.correct, trials: tally.correct + tally.falsePositive)!
            let acceptable = targets.acceptableFalsePositiveRate(rule: rule, category: categories[rule])
            var status = "ok"
            if let acceptable {
                if 1 - estimate.high > acceptable { status = "breached" } else if 1 - estimate.value > acceptable { status = "at-risk" }
            }
            return Report.Precision(
                rule: rule, category: categories[rule], correct: tally.correct, falsePositive: tally.falsePositive,
                precision: estimate, acceptableFalsePositiveRate: acceptable, status: status)
        }.sorted { ($0.precision.value, $0.rule) < ($1.precision.value, $1.rule) }
        return Report.ReviewFigures(
            forwarded: forwarded, sampled: sampled, labelled: labelled,
            verdicts: Dictionary(uniqueKeysWithValues: ReviewEvent.Verdict.allCases.map { ($0.rawValue, counts[$0.rawValue, default: 0]) }),
            coverage: coverage, coverageTarget: targets.coverage,
            coverageBreached: targets.coverage.map { coverage < $0 } ?? false,
            missedRate: missed, missedRateTarget: targets.maxMissedRate,
            missedRateBreached: zip(missed, targets.maxMissedRate).map { $0.low > $1 } ?? false,
            precision: precision)
    }

    // MARK: - Flags

    static func flags(_ report: Report) -> [String] {
        var flags: [String] = []
        let review = report.review
        if review.coverageBreached, let target = review.coverageTarget {
            flags.append(String(format: "review coverage %.1f%% is below its target %.1f%% (%d of %d forwarded requests labelled)",
                                review.coverage * 100, target * 100, review.labelled, review.forwarded))
        }
        if review.missedRateBreached, let missed = review.missedRate, let target = review.missedRateTarget {
            flags.append(String(format: "missed rate %.1f%% (95%% interval %.1f–%.1f%%) is above its target %.1f%%",
                                missed.value * 100, missed.low * 100, missed.high * 100, target * 100))
        }
        for rule in review.precision where rule.status != "ok" {
            flags.append(String(format: "rule %@: false-positive rate %.1f%% (95%% interval %.1f–%.1f%%, %d verdicts) %@ its acceptable %.1f%%",
                                rule.rule, (1 - rule.precision.value) * 100, (1 - rule.precision.high) * 100,
                                (1 - rule.precision.low) * 100, rule.precision.samples,
                                rule.status == "breached" ? "breaches" : "may breach", (rule.acceptableFalsePositiveRate ?? 0) * 100))
        }
        for drift in report.drift where drift.flagged {
            let change = drift.change.map { String(format: "%+.0f%%", $0 * 100) } ?? "new"
            flags.append("rule \(drift.rule) drifted: \(drift.hits) hits against \(drift.previousHits) in the previous window (\(change))")
        }
        if report.queue.overdue > 0 {
            flags.append("\(report.queue.overdue) request(s) waiting for review longer than \(report.queue.maxAgeSeconds / 3600) h")
        }
        return flags
    }

    static func window(_ since: Date, _ until: Date) -> Report.Window {
        Report.Window(since: Self.hour(since), until: Self.hour(until.addingTimeInterval(3599)))
    }

    /// The start of `date`'s hour, as record times are written.
    static func hour(_ date: Date) -> String {
        let seconds = (date.timeIntervalSince1970 / 3600).rounded(.down) * 3600
        return UTCTime.format(Date(timeIntervalSince1970: seconds))
    }
}

private func zip<A, B>(_ a: A?, _ b: B?) -> (A, B)? {
    guard let a, let b else { return nil }
    return (a, b)
}
