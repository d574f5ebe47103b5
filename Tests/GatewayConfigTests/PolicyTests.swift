import GatewayConfig
import Testing

@Suite struct PolicyTests {
    static let twoProviders = """
        providers:
          - {name: openai, base_url: https://api.openai.com, paths: [/v1/chat/completions], credential: {header: Authorization, value: a}}
          - {name: anthropic, base_url: https://api.anthropic.com, paths: [/v1/messages], credential: {header: x-api-key, value: b}}
        """

    func loadPolicy(_ policy: String) throws -> RolePolicy {
        let fixture = try ConfigFixture(policy: policy)
        return try fixture.load(Self.twoProviders).rolePolicy
    }

    func policyProblems(_ policy: String) throws -> [ConfigProblem] {
        try ConfigFixture(policy: policy).problems(Self.twoProviders)
    }

    @Test func decodesEveryRoleField() throws {
        let policy = try loadPolicy("""
            roles:
              analyst:
                providers: [openai]
                paths: [/v1/chat/*, /v1/embeddings]
                models: [gpt-4o*, text-embedding-?-small]
                categories: {pii: allow, pci: block, custom-ids: redact}
                binary_uploads: true
                max_body_bytes: 1048576
                rate_limit: {requests_per_minute: 60, burst: 10}
              everything: {providers: "*", models: "*"}
              scanner: {providers: "*", models: "*", uninspected_uploads: true, ocr: true}
            """)
        let scanner = try #require(policy.role(named: "scanner"))
        #expect(scanner.binaryUploads && scanner.readImages)
        let analyst = try #require(policy.role(named: "analyst"))
        #expect(analyst.providers == .named(["openai"]))
        #expect(analyst.allows(provider: "openai") && !analyst.allows(provider: "anthropic"))
        #expect(analyst.allows(path: "/v1/chat/completions?stream=true") && !analyst.allows(path: "/v1/responses"))
        #expect(analyst.allows(model: "gpt-4o-mini") && analyst.allows(model: "text-embedding-3-small"))
        #expect(!analyst.allows(model: "o3"))
        #expect(analyst.categoryActions == ["pii": .allow, "pci": .block, "custom-ids": .redact])
        #expect(analyst.action(forCategory: "pii", defaultAction: .redact) == .allow)
        #expect(analyst.action(forCategory: "secret", defaultAction: .allow) == .block)
        #expect(analyst.binaryUploads)
        #expect(analyst.maxBodyBytes == 1_048_576)
        #expect(analyst.rateLimit == RateLimit(requestsPerMinute: 60, burst: 10))

        let everything = try #require(policy.role(named: "everything"))
        #expect(everything.providers == .all)
        #expect(everything.allows(provider: "anthropic"))
        #expect(everything.allows(path: "/anything") && everything.allows(model: "anything"))
        #expect(!everything.binaryUploads && !everything.readImages)
        #expect(everything.maxBodyBytes == nil && everything.rateLimit == nil)
        #expect(policy.role(named: "nobody") == nil)
    }

    @Test func secretsAreBlockedUnlessExplicitlySet() throws {
        let policy = try loadPolicy("""
            roles:
              plain: {providers: "*", models: "*", categories: {pii: allow}}
              trusted: {providers: "*", models: "*", categories: {secret: redact}}
            """)
        #expect(policy.role(named: "plain")?.action(forCategory: "secret", defaultAction: .allow) == .block)
        #expect(policy.role(named: "trusted")?.action(forCategory: "secret", defaultAction: .block) == .redact)
        let fixture = try ConfigFixture(policy: "roles: {trusted: {providers: '*', models: '*', categories: {secret: allow}}}\n")
        let warnings = try fixture.load(Self.twoProviders).warnings
        #expect(warnings.map(\.keyPath.description) == ["roles.trusted.categories.secret"])
    }

    @Test func burstDefaultsToTheRate() throws {
        let policy = try loadPolicy("roles: {r: {providers: '*', models: '*', rate_limit: {requests_per_minute: 90}}}\n")
        #expect(policy.role(named: "r")?.rateLimit == RateLimit(requestsPerMinute: 90, burst: 90))
    }

    @Test func unknownProvidersInvalidActionsAndGlobsAreReported() throws {
        let problems = try policyProblems("""
            roles:
              bad:
                providers: [openai, gemini]
                paths: [v1/chat, "/v1/[x]"]
                models: ["gpt-{4,5}", ""]
                categories: {pii: maybe, PCI: block}
                binary_uploads: sometimes
                max_body_bytes: 0
                rate_limit: {requests_per_minute: 0, burst: 5}
                colour: red
            """)
        #expect(problems.map(\.keyPath.description) == [
            "roles.bad.providers[1]", "roles.bad.paths[0]", "roles.bad.paths[1]", "roles.bad.models[0]",
            "roles.bad.models[1]", "roles.bad.categories.pii", "roles.bad.categories.PCI", "roles.bad.binary_uploads",
            "roles.bad.max_body_bytes", "roles.bad.rate_limit.requests_per_minute", "roles.bad.colour",
        ])
        #expect(problems[0].message.contains("unknown provider 'gemini'"))
        #expect(problems[5].message.contains("allow, redact, block"))
    }

    @Test func requiredRoleKeysAndAtLeastOneRole() throws {
        #expect(try policyProblems("roles: {r: {paths: '*'}}\n").map(\.keyPath.description) == [
            "roles.r.providers", "roles.r.models",
        ])
        #expect(try policyProblems("roles: {}\n").map(\.keyPath.description) == ["roles"])
        #expect(try policyProblems("identities: {}\n").map(\.keyPath.description) == ["roles"])
        #expect(try policyProblems("roles: {'bad name!': {providers: '*', models: '*'}}\n").map(\.keyPath.description) == [
            "roles.bad name!",
        ])
    }

    @Test func certificateIdentitiesMapToUsersAndRoles() throws {
        let policy = try loadPolicy("""
            roles:
              engineer: {providers: "*", models: "*"}
              bot: {providers: [openai], models: "*"}
            identities:
              certificates:
                - {san: "*@eng.example.com", role: engineer}
                - {subject: "CN=build-bot,*", user: ci, role: bot}
                - {subject: "CN=*", role: bot}
            """)
        let alice = policy.identity(forCertificateSubject: "CN=Alice,O=Example", subjectAlternativeNames: ["alice@eng.example.com"])
        #expect(alice?.user == "alice@eng.example.com")
        #expect(alice?.role.name == "engineer")
        let bot = policy.identity(forCertificateSubject: "CN=build-bot,O=Example", subjectAlternativeNames: [])
        #expect(bot?.user == "ci" && bot?.role.name == "bot")
        let other = policy.identity(forCertificateSubject: "CN=carol,O=Example", subjectAlternativeNames: ["carol@else.example"])
        #expect(other?.user == "carol" && other?.role.name == "bot")
        #expect(policy.identity(forCertificateSubject: "O=NoCN", subjectAlternativeNames: []) == nil)
    }

    @Test func certificateIdentityRulesAreValidated() throws {
        let problems = try policyProblems("""
            roles: {engineer: {providers: "*", models: "*"}}
            identities:
              certificates:
                - {san: "*@x", role: ghost}
                - {role: engineer}
                - {subject: "CN=a", san: "b", role: engineer}
                - {subject: "CN=[a]", role: engineer}
                - {san: "x"}
            """)
        #expect(problems.map(\.keyPath.description) == [
            "identities.certificates[0].role", "identities.certificates[1]", "identities.certificates[2]",
            "identities.certificates[3].subject", "identities.certificates[4].role",
        ])
    }

    @Test func categoryActionsOrderByStrictness() {
        #expect(RoleCategoryAction.allow < .redact && RoleCategoryAction.redact < .block)
        #expect([RoleCategoryAction.redact, .block, .allow].max() == .block)
    }
}

@Suite struct DocumentSettingsTests {
    @Test func rolesThatReadImagesWithoutLanguageDataAreWarnedAbout() throws {
        let fixture = try ConfigFixture(policy: """
            roles:
              scanner: {providers: "*", models: "*", ocr: true}
            """)
        let missing = try fixture.load(PolicyTests.twoProviders + """

            documents: {ocr_data: /nonexistent-tessdata, max_pages: 20}
            """)
        #expect(missing.documents.maxPages == 20)
        #expect(missing.warnings.contains { $0.message.contains("roles scanner set ocr: true") })
        #expect(fixture.problems(PolicyTests.twoProviders + "\ndocuments: {max_pages: 0}").map(\.keyPath.description)
            == ["documents.max_pages"])
    }
}
