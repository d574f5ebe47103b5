import GatewayRules
import Testing

@Suite struct PolicyTests {
    @Test func defaultPolicy() {
        let policy = CategoryPolicy.default
        #expect(policy.treatment(for: .secret).action == .block)
        #expect(policy.treatment(for: .pci) == CategoryTreatment(.redact, style: .mask(keepLast: 4)))
        #expect(policy.treatment(for: .pii) == CategoryTreatment(.redact, style: .placeholder))
        #expect(policy.treatment(for: Category("health")).action == .block)
    }

    @Test func overridesApplyPerCall() throws {
        let text = "mail jo@acme.com key ghp_eyjJEJwHbT4sLvKiNIRYeiPLJXRXz5u9Q9PH"
        let relaxed = CategoryPolicy.default.overriding([.secret: CategoryTreatment(.redact), .pii: CategoryTreatment(.allow)])
        let decision = try TestSupport.inspector.inspect(text: text, policy: relaxed)
        guard case .redact(let body, _) = decision.verdict else {
            Issue.record("expected redact")
            return
        }
        #expect(String(decoding: body, as: UTF8.self) == "mail jo@acme.com key [GITHUB_TOKEN_1]")
        #expect(try TestSupport.inspector.inspect(text: text).isBlocked)
    }

    @Test func keyedHashStyle() throws {
        let policy = CategoryPolicy.default.overriding([.pii: CategoryTreatment(.redact, style: .keyedHash)])
        let decision = try TestSupport.inspector.inspect(text: "jo@acme.com", policy: policy)
        guard case .redact(let body, _) = decision.verdict else {
            Issue.record("expected redact")
            return
        }
        let fingerprint = TestSupport.inspector.fingerprint(of: "jo@acme.com")
        #expect(String(decoding: body, as: UTF8.self) == "[EMAIL:\(fingerprint.prefix(12))]")
    }

    @Test func findingsNeverCarryTheRawValue() throws {
        let value = "sk-ant-api03-TIiQLEBbId2_WxsGALApxL7azCG2mFELL8-macYipP1tt-FKweng3pkMpckxdnrhhqF09e8knNNuap3DKzoLoiYrfBPYtAA"
        let decision = try TestSupport.inspector.inspect(text: "key \(value)")
        let finding = try #require(decision.findings.first)
        #expect(finding.type == "anthropic_api_key")
        #expect(finding.category == .secret)
        #expect(finding.location == "$")
        #expect(finding.fingerprint.count == 16)
        #expect(finding.fingerprint == TestSupport.inspector.fingerprint(of: value))
        #expect(!"\(finding)".contains(value))
        guard case .block(let reason) = decision.verdict else {
            Issue.record("expected block")
            return
        }
        #expect(!reason.contains(value))
        #expect(reason.contains("secret/anthropic_api_key"))
    }

    @Test func customCategoriesBlockByDefault() throws {
        let set = try RuleLoader.load(files: [("c.yaml", """
            rules:
              - id: project-codename
                category: confidential
                type: codename
                pattern: 'BLUEBIRD-\\d{3}'
                keywords: [bluebird-]
                examples: {match: ['BLUEBIRD-123']}
            """)])
        let inspector = BodyInspector(rules: set, fingerprintKey: TestSupport.fingerprintKey)
        #expect(try inspector.inspect(text: "about BLUEBIRD-007").isBlocked)
        let allowed = CategoryPolicy.default.overriding([Category("confidential"): CategoryTreatment(.allow)])
        let decision = try inspector.inspect(text: "about BLUEBIRD-007", policy: allowed)
        #expect(!decision.isBlocked)
        #expect(decision.findings.count == 1)
    }
}
