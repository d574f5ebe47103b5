import Foundation
import GatewayAudit
import GatewayRules
import Testing
@testable import GatewayCore

extension GatewayIntegration {
    /// Rules in `mode: shadow` run on live traffic and only report what they would do.
    @Suite("Shadow rules")
    struct ShadowRules {
        static let rule = """
            rules:
              - id: shadow-codename
                description: A project codename the team considers blocking (trial)
                category: secret
                type: codename
                mode: shadow
                pattern: 'Project Bluebird'
                keywords: [bluebird]
                confidence: 0.9
                examples:
                  match: ['notes on Project Bluebird']
                  no_match: ['a bluebird sang']
            """

        @Test("A shadow rule is compiled apart from the live set")
        func loaderKeepsShadowRulesApart() throws {
            let set = try RuleLoader.load(files: [("shadow.yaml", Self.rule)])
            #expect(!set.rules.contains { $0.id == "shadow-codename" })
            #expect(set.shadow?.rules.map(\.id) == ["shadow-codename"])
            #expect(throws: RuleLoadError.self) {
                try RuleLoader.load(files: [("bad.yaml", Self.rule.replacingOccurrences(of: "mode: shadow", with: "mode: trial"))])
            }
        }

        @Test("What a shadow rule would block is forwarded unchanged, recorded as shadow, and reported per rule")
        func shadowFindingsAreRecordedNotEnforced() async throws {
            var options = GatewayHarness.Options()
            options.ownPolicyAndRules = true
            try await GatewayHarness.run(options) { gateway in
                try Self.rule.write(
                    to: gateway.directory.appendingPathComponent("rules/shadow.yaml"), atomically: true, encoding: .utf8)
                #expect(await gateway.server.reload().applied)
                let body = #"{"model":"gpt-4o","messages":[{"role":"user","content":"status of Project Bluebird?"}]}"#
                let hit = try await gateway.client.send(.json("/v1/chat/completions", body))
                #expect(hit.status == .ok, "a shadow rule changes nothing")
                let received = try #require(gateway.vendor.requests(containing: "Bluebird").first)
                #expect(received.bodyText.contains("Project Bluebird"), "forwarded unchanged")
                let clean = try await gateway.client.send(
                    .json("/v1/chat/completions", #"{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}"#))

                let location = AuditLocation(directory: gateway.directory.appendingPathComponent("var/audit").path)
                let views = AuditReader.views(location: location)
                let hitRecord = try #require(views.first { $0.record.requestID == hit.requestID }).record
                #expect(hitRecord.decision == .allow)
                #expect(hitRecord.shadow == ShadowSummary(decision: .block, rules: ["shadow-codename"], findings: 1))
                #expect(hitRecord.findings.isEmpty, "the live findings hold no shadow finding")
                let cleanRecord = try #require(views.first { $0.record.requestID == clean.requestID }).record
                #expect(cleanRecord.shadow == nil)

                let report = ShadowReport(views: views)
                let line = try #require(report.lines.first { $0.rule == "shadow-codename" })
                #expect(line.fired == 1)
                #expect(line.changes == ["allow→block": 1])
                #expect(line.examples == [hitRecord.id])
                #expect(report.render().contains("allow→block 1"))
            }
        }
    }
}
