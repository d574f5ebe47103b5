import GatewayConfig
import Testing

/// The policy's `review:` and `prices:` sections.
@Suite struct ReviewPolicyTests {
    let base = PolicyTests()
    static let roles = """
        roles:
          engineer: {providers: "*", models: "*"}
          analyst: {providers: [openai], models: "*"}
        """

    @Test func decodesEscalationSamplingTargetsDriftAndPrices() throws {
        let policy = try base.loadPolicy(Self.roles + """

            review:
              escalate: {categories: [pci], rules: [r1], roles: [analyst], below_confidence: 0.7}
              max_age_hours: 2
              sampling: {default: 0.05, roles: {analyst: 30%}, providers: {anthropic: 0.1}}
              targets:
                coverage: 0.3
                max_false_positive_rate: 0.05
                max_missed_rate: 0.02
                rules: {r1: {max_false_positive_rate: 0.2}}
                categories: {pii: {max_false_positive_rate: 0.1}}
              drift: {tolerance: 0.4, min_hits: 5}
            prices:
              currency: EUR
              models:
                - {provider: openai, model: "gpt-4o-mini*", input: 0.15, cached_input: 0.075, output: 0.6}
                - {model: "claude-*", input: 3, output: 15}
            """)
        let review = policy.review
        #expect(review.escalation == ReviewPolicy.Escalation(categories: ["pci"], rules: ["r1"], roles: ["analyst"], belowConfidence: 0.7))
        #expect(review.maxQueueAgeSeconds == 7200)
        #expect(review.sampling.share(role: "analyst", provider: "openai") == 0.3)
        #expect(review.sampling.share(role: "engineer", provider: "anthropic") == 0.1)
        #expect(review.sampling.share(role: "engineer", provider: "openai") == 0.05)
        #expect(review.targets.acceptableFalsePositiveRate(rule: "r1", category: "pii") == 0.2)
        #expect(review.targets.acceptableFalsePositiveRate(rule: "r2", category: "pii") == 0.1)
        #expect(review.targets.acceptableFalsePositiveRate(rule: "r2", category: "pci") == 0.05)
        #expect(review.drift == DriftSettings(tolerance: 0.4, minimumHits: 5))
        #expect(policy.prices.currency == "EUR")
        let mini = try #require(policy.prices.price(provider: "openai", model: "gpt-4o-mini-2024"))
        #expect(abs(mini.cost(prompt: 1_000_000, completion: 1_000_000, cached: 500_000) - (0.075 + 0.0375 + 0.6)) < 1e-9)
        #expect(policy.prices.price(provider: "anthropic", model: "claude-sonnet-4")?.input == 3)
        #expect(policy.prices.price(provider: "openai", model: "o3") == nil)
    }

    @Test func defaultsAreOff() throws {
        let policy = try base.loadPolicy(Self.roles)
        #expect(policy.review.escalation.isEmpty && policy.review.sampling.isOff)
        #expect(policy.review.maxQueueAgeSeconds == 4 * 3600 && policy.prices.entries.isEmpty)
    }

    @Test func mistakesAreReportedWithTheirKey() throws {
        let problems = try base.policyProblems(Self.roles + """

            review:
              escalate: {roles: [nobody], below_confidence: 1.5}
              sampling: {roles: {ghost: 0.3, analyst: 130%}}
              targest: {}
            prices:
              models:
                - {provider: nowhere, model: "gpt-*", input: -1}
            """)
        let text = problems.map { "\($0.keyPath): \($0.message)" }.joined(separator: "\n")
        #expect(text.contains("unknown or invalid role 'nobody'"))
        #expect(text.contains("below_confidence"))
        #expect(text.contains("unknown role 'ghost'"))
        #expect(text.contains("130%"))
        #expect(text.contains("targest"))
        #expect(text.contains("unknown provider 'nowhere'"))
        #expect(text.contains("output"))
    }
}
