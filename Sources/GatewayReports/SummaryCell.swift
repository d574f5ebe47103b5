/// What the records of one hour say about one (role, provider, model): the unit a segment summary is made of
/// and reports add up. Counts only: no record id, no value, nothing a record itself would not show.
public struct SummaryCell: Sendable, Hashable, Codable {
    public var requests = 0
    /// Requests by decision (`allow`, `redact`, `block`, `review`, …).
    public var decisions: [String: Int] = [:]
    /// Per rule: the requests it fired on, by decision.
    public var ruleDecisions: [String: [String: Int]] = [:]
    /// Per category: the requests with a finding of it, by decision.
    public var categoryDecisions: [String: [String: Int]] = [:]
    /// Per category: findings (each summary's count), the data the gateway kept in or let through knowingly.
    public var categoryFindings: [String: Int] = [:]
    /// Forwarded requests (allow, redact, released, uninspected) and, of those, the ones sampled for review.
    public var forwarded = 0
    public var sampled = 0
    /// Tokens the vendors reported.
    public var tokens = TokenTally()
    /// The gateway's added latency of completed forwarded requests (total less the vendor's time).
    public var latency = LatencyHistogram()

    public init() {}

    public mutating func merge(_ other: SummaryCell) {
        self.requests += other.requests
        self.decisions.merge(other.decisions, uniquingKeysWith: +)
        for (rule, counts) in other.ruleDecisions { self.ruleDecisions[rule, default: [:]].merge(counts, uniquingKeysWith: +) }
        for (category, counts) in other.categoryDecisions {
            self.categoryDecisions[category, default: [:]].merge(counts, uniquingKeysWith: +)
        }
        self.categoryFindings.merge(other.categoryFindings, uniquingKeysWith: +)
        self.forwarded += other.forwarded
        self.sampled += other.sampled
        self.tokens.merge(other.tokens)
        self.latency.merge(other.latency)
    }
}

/// Tokens the vendors reported, and how many answers reported them.
public struct TokenTally: Sendable, Hashable, Codable {
    public var prompt = 0
    public var completion = 0
    public var cached = 0
    public var answers = 0

    public init() {}

    public mutating func merge(_ other: TokenTally) {
        self.prompt += other.prompt
        self.completion += other.completion
        self.cached += other.cached
        self.answers += other.answers
    }
}

/// Where one cell belongs: an hour (UTC, as `yyyy-MM-ddTHH`), a role, a provider and a model. Users are not part
/// of it (they would make a cell per request); `UserKey` counts them per day.
public struct CellKey: Sendable, Hashable, Codable {
    public var hour: String
    public var role: String
    public var provider: String
    public var model: String

    public init(hour: String, role: String, provider: String, model: String) {
        self.hour = hour
        self.role = role
        self.provider = provider
        self.model = model
    }
}

/// One user's requests on one day (UTC, `yyyy-MM-dd`) in one role, to one provider and model: what by-user figures,
/// active users and per-user spend are made of.
public struct UserKey: Sendable, Hashable, Codable {
    public var day: String
    public var user: String
    public var role: String
    public var provider: String
    public var model: String

    public init(day: String, user: String, role: String, provider: String, model: String) {
        self.day = day
        self.user = user
        self.role = role
        self.provider = provider
        self.model = model
    }
}

/// What a `UserKey` holds: requests, decisions and tokens.
public struct UserCell: Sendable, Hashable, Codable {
    public var requests = 0
    public var decisions: [String: Int] = [:]
    public var tokens = TokenTally()

    public init() {}

    public mutating func merge(_ other: UserCell) {
        self.requests += other.requests
        self.decisions.merge(other.decisions, uniquingKeysWith: +)
        self.tokens.merge(other.tokens)
    }
}

/// Latencies in logarithmic buckets (each 12.5% wider than the last, from 10 µs): percentiles within ±6%, in a
/// few hundred bytes whatever the number of requests, and mergeable.
public struct LatencyHistogram: Sendable, Hashable, Codable {
    /// Bucket index → count.
    public var buckets: [Int: Int] = [:]
    public var count = 0

    static let base = 0.01  // milliseconds
    static let growth = 1.125

    public init() {}

    public mutating func add(milliseconds: Double) {
        let index = milliseconds <= Self.base ? 0 : Int((log(milliseconds / Self.base) / log(Self.growth)).rounded(.down)) + 1
        self.buckets[index, default: 0] += 1
        self.count += 1
    }

    public mutating func merge(_ other: LatencyHistogram) {
        self.buckets.merge(other.buckets, uniquingKeysWith: +)
        self.count += other.count
    }

    /// The latency below which `quantile` of the samples fall (the bucket's midpoint); nil when empty.
    public func percentile(_ quantile: Double) -> Double? {
        guard self.count > 0 else { return nil }
        let rank = max(1, Int((quantile * Double(self.count)).rounded(.up)))
        var seen = 0
        for index in self.buckets.keys.sorted() {
            seen += self.buckets[index]!
            if seen >= rank {
                if index == 0 { return Self.base }
                let low = Self.base * pow(Self.growth, Double(index - 1))
                return low * (1 + Self.growth) / 2
            }
        }
        return nil
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
