/// What `gatewayctl report` says, as data: the `--json` output (stable: fields are added, never renamed or
/// removed, within a `schema`), and what the text and HTML renderings show. Every figure is a count, a rate or a
/// sum over decision records: no record holds a value, and neither does a report.
public struct Report: Sendable, Hashable, Codable {
    public static let currentSchema = 1
    public var schema = Report.currentSchema
    public var generated: String
    public var window: Window
    /// The window of the same length just before, which drift compares against.
    public var previousWindow: Window
    /// What `groups` are by: `role`, `user`, `provider`, `rule` or `category`.
    public var groupedBy: String
    public var totals: Group
    public var groups: [Group]
    /// Requests per day and decision, oldest first (the HTML chart).
    public var days: [Day]
    /// Findings by category: the data the gateway kept in (blocked, held, redacted) or let through knowingly.
    public var categories: [CategoryFigures]
    /// Rules by the requests they fired on, most first (at most 20).
    public var topRules: [RuleFigures]
    public var drift: [Drift]
    public var review: ReviewFigures
    public var queue: QueueFigures
    /// The gateway's added latency (total less the vendor's time) of completed forwarded requests, in ms.
    public var latency: Latency
    public var currency: String
    /// Everything that breaches a target or the queue's age limit, in words.
    public var flags: [String]

    public struct Window: Sendable, Hashable, Codable {
        /// Inclusive start and exclusive end, UTC, to the hour (records are summarised per hour).
        public var since: String
        public var until: String
    }

    public struct Group: Sendable, Hashable, Codable {
        public var name: String
        public var requests: Int
        /// Requests by decision; every decision is present (0 when none).
        public var decisions: [String: Int]
        /// Shares of `requests`: allowed (allow, released, uninspected), redacted, blocked, reviewed (held).
        public var rates: Rates
        public var activeUsers: Int
        public var tokens: Tokens
        /// Spend under the policy's price table; requests whose model has no price count in `unpricedRequests`.
        public var spend: Double
        public var unpricedRequests: Int
    }

    public struct Rates: Sendable, Hashable, Codable {
        public var allowed: Double
        public var redacted: Double
        public var blocked: Double
        public var reviewed: Double
    }

    public struct Tokens: Sendable, Hashable, Codable {
        public var prompt: Int
        public var completion: Int
        public var cached: Int
    }

    public struct Day: Sendable, Hashable, Codable {
        public var day: String
        public var decisions: [String: Int]
    }

    public struct CategoryFigures: Sendable, Hashable, Codable {
        public var category: String
        public var findings: Int
        public var requests: Int
        /// Requests with a finding of this category, by decision.
        public var decisions: [String: Int]
    }

    public struct RuleFigures: Sendable, Hashable, Codable {
        public var rule: String
        public var category: String
        public var requests: Int
    }

    /// A rule's hit rate (requests it fired on per request) in this window against the previous one.
    public struct Drift: Sendable, Hashable, Codable {
        public var rule: String
        public var hits: Int
        public var previousHits: Int
        public var rate: Double
        public var previousRate: Double
        /// rate / previousRate − 1; nil when the previous rate was 0.
        public var change: Double?
        public var flagged: Bool
    }

    public struct ReviewFigures: Sendable, Hashable, Codable {
        public var forwarded: Int
        /// Forwarded requests sampled for review (`review.sampling`).
        public var sampled: Int
        /// Decisions in the window a reviewer labelled (`gatewayctl review label`), by verdict.
        public var labelled: Int
        public var verdicts: [String: Int]
        /// Labelled requests forwarded in the window, per forwarded request of the window, against
        /// `review.targets.coverage` (verdicts on blocked or held requests count for precision, not coverage).
        public var coverage: Double
        public var coverageTarget: Double?
        public var coverageBreached: Bool
        /// `missed` verdicts per labelled decision, with its 95% interval, against `max_missed_rate`.
        public var missedRate: Estimate?
        public var missedRateTarget: Double?
        public var missedRateBreached: Bool
        public var precision: [Precision]
    }

    /// A proportion with its 95% Wilson score interval.
    public struct Estimate: Sendable, Hashable, Codable {
        public var value: Double
        public var low: Double
        public var high: Double
        public var samples: Int
    }

    /// A rule's precision from verdicts: correct / (correct + false-positive).
    public struct Precision: Sendable, Hashable, Codable {
        public var rule: String
        public var category: String?
        public var correct: Int
        public var falsePositive: Int
        public var precision: Estimate
        /// The acceptable false-positive rate (`review.targets`), and the verdict against it: `ok`, `at-risk` (the
        /// estimate is past it, its interval not entirely) or `breached` (the whole interval is past it).
        public var acceptableFalsePositiveRate: Double?
        public var status: String
    }

    public struct QueueFigures: Sendable, Hashable, Codable {
        public var size: Int
        public var oldestAgeSeconds: Double
        public var overdue: Int
        public var maxAgeSeconds: Int
    }

    public struct Latency: Sendable, Hashable, Codable {
        public var p50: Double?
        public var p99: Double?
        public var samples: Int
    }
}
