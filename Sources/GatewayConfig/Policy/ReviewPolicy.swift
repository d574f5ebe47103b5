/// `review:` in the policy file: what is held for a person, what share of traffic people review after the fact,
/// and the error rates and coverage the team has agreed to. Everything defaults to off: no escalation, no
/// sampling, no targets.
public struct ReviewPolicy: Sendable, Hashable {
    /// `review.escalate`: findings that hold a request for a person instead of deciding it alone.
    public var escalation: Escalation
    /// `review.max_age_hours`, default 4: a queued request older than this is overdue (reports and
    /// `gateway_review_queue_overdue`).
    public var maxQueueAgeSeconds: Int
    /// `review.sampling`: the share of forwarded requests kept (redacted, encrypted) for review after the fact.
    public var sampling: SamplingShares
    /// `review.targets`: acceptable error rates and the minimum review coverage.
    public var targets: ReviewTargets
    /// `review.drift`: when a rule's hit rate counts as changed between two windows.
    public var drift: DriftSettings

    public static let defaultMaxQueueAgeSeconds = 4 * 3600

    public init(
        escalation: Escalation = Escalation(), maxQueueAgeSeconds: Int = ReviewPolicy.defaultMaxQueueAgeSeconds,
        sampling: SamplingShares = SamplingShares(), targets: ReviewTargets = ReviewTargets(),
        drift: DriftSettings = DriftSettings()
    ) {
        self.escalation = escalation
        self.maxQueueAgeSeconds = maxQueueAgeSeconds
        self.sampling = sampling
        self.targets = targets
        self.drift = drift
    }

    /// Which findings escalate. A request is held for review when at least one finding escalates and no finding
    /// that does not escalate blocks it (a block the policy is sure of stays a block).
    public struct Escalation: Sendable, Hashable {
        /// `categories`: any finding of these categories.
        public var categories: Set<String>
        /// `rules`: any finding of these rule ids.
        public var rules: Set<String>
        /// `roles`: any finding in a request of these roles.
        public var roles: Set<String>
        /// `below_confidence`: any finding the policy would redact or block with a confidence below this.
        public var belowConfidence: Double?

        public init(categories: Set<String> = [], rules: Set<String> = [], roles: Set<String> = [], belowConfidence: Double? = nil) {
            self.categories = categories
            self.rules = rules
            self.roles = roles
            self.belowConfidence = belowConfidence
        }

        public var isEmpty: Bool { categories.isEmpty && rules.isEmpty && roles.isEmpty && belowConfidence == nil }

        /// Why a finding escalates (`category:pci`, `rule:…`, `role:…`, `confidence<0.7`), or nil when it does not.
        /// - Parameter enforced: whether the policy would redact or block it (low confidence only escalates those).
        public func reason(category: String, rule: String, role: String?, confidence: Double, enforced: Bool) -> String? {
            if self.rules.contains(rule) { return "rule:" + rule }
            if self.categories.contains(category) { return "category:" + category }
            if let role, self.roles.contains(role) { return "role:" + role }
            if let threshold = self.belowConfidence, enforced, confidence < threshold {
                return "confidence<" + String(threshold)
            }
            return nil
        }
    }
}

/// `review.sampling`: shares (0…1) of forwarded requests sampled for review, by role and by provider. A request
/// takes the larger of its role's and its provider's share, or `default` when neither is listed.
public struct SamplingShares: Sendable, Hashable {
    public var defaultShare: Double
    public var roles: [String: Double]
    public var providers: [String: Double]

    public init(defaultShare: Double = 0, roles: [String: Double] = [:], providers: [String: Double] = [:]) {
        self.defaultShare = defaultShare
        self.roles = roles
        self.providers = providers
    }

    public func share(role: String?, provider: String?) -> Double {
        let byRole = role.flatMap { self.roles[$0] }
        let byProvider = provider.flatMap { self.providers[$0] }
        if byRole == nil && byProvider == nil { return self.defaultShare }
        return max(byRole ?? 0, byProvider ?? 0)
    }

    public var isOff: Bool { defaultShare == 0 && roles.values.allSatisfy { $0 == 0 } && providers.values.allSatisfy { $0 == 0 } }
}

/// `review.targets`: what the team accepts. Reports and metrics flag each breach.
public struct ReviewTargets: Sendable, Hashable {
    /// `coverage`: the minimum share of forwarded requests reviewed by people (labelled), e.g. 0.3.
    public var coverage: Double?
    /// `max_false_positive_rate`: per rule, unless `rules` or `categories` say otherwise.
    public var maxFalsePositiveRate: Double?
    /// `max_missed_rate`: labelled requests marked `missed` among all labelled requests.
    public var maxMissedRate: Double?
    /// `rules.ID.max_false_positive_rate` and `categories.NAME.max_false_positive_rate`.
    public var ruleFalsePositiveRates: [String: Double]
    public var categoryFalsePositiveRates: [String: Double]

    public init(
        coverage: Double? = nil, maxFalsePositiveRate: Double? = nil, maxMissedRate: Double? = nil,
        ruleFalsePositiveRates: [String: Double] = [:], categoryFalsePositiveRates: [String: Double] = [:]
    ) {
        self.coverage = coverage
        self.maxFalsePositiveRate = maxFalsePositiveRate
        self.maxMissedRate = maxMissedRate
        self.ruleFalsePositiveRates = ruleFalsePositiveRates
        self.categoryFalsePositiveRates = categoryFalsePositiveRates
    }

    /// The acceptable false-positive rate of `rule` (of `category`): the rule's own, its category's, or the default.
    public func acceptableFalsePositiveRate(rule: String, category: String?) -> Double? {
        self.ruleFalsePositiveRates[rule] ?? category.flatMap { self.categoryFalsePositiveRates[$0] } ?? self.maxFalsePositiveRate
    }
}

/// `review.drift`: a rule drifts when its hit rate (requests it fired on, per request) in a window differs from the
/// previous window of the same length by more than `tolerance` (relative: 0.5 is ±50%), with at least `min_hits`
/// hits in one of the two windows (so a rule firing twice instead of once is not news).
public struct DriftSettings: Sendable, Hashable {
    public var tolerance: Double
    public var minimumHits: Int

    public init(tolerance: Double = 0.5, minimumHits: Int = 20) {
        self.tolerance = tolerance
        self.minimumHits = minimumHits
    }
}
