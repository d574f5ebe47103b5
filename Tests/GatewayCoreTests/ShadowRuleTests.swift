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

        @Test("A candidate directory's rules all run in shadow mode, may revise a live rule, and change the set's hash")
        func candidateDirectoryIsShadow() throws {
            let live = Self.rule.replacingOccurrences(of: "mode: shadow", with: "mode: live")
            let candidate = live.replacingOccurrences(of: "'Project Bluebird'", with: "'Project (?:Bluebird|Redwing)'")
                .replacingOccurrences(of: "keywords: [bluebird]", with: "keywords: [bluebird, redwing]")
            let plain = try RuleLoader.load(files: [("live.yaml", live)])
            let set = try RuleLoader.load(files: [("live.yaml", live)], shadowFiles: [("candidate.yaml", candidate)])
            #expect(set.rules.map(\.id) == ["shadow-codename"], "the live rule stays live")
            #expect(set.shadow?.rules.map(\.id) == ["shadow-codename"], "its candidate version runs in shadow")
            #expect(set.sourceDigest != plain.sourceDigest, "records name the candidate set too")
            let duplicate = #expect(throws: RuleLoadError.self) {
                try RuleLoader.load(files: [("live.yaml", live)], shadowFiles: [("a.yaml", candidate), ("b.yaml", candidate)])
            }
            #expect(duplicate?.problems.first?.message.contains("duplicate rule id") == true)

            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("shadow-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory.appendingPathComponent("rules"), withIntermediateDirectories: true)
            try FileManager.default.createDirectory(at: directory.appendingPathComponent("rules.shadow"), withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            try live.write(to: directory.appendingPathComponent("rules/live.yaml"), atomically: true, encoding: .utf8)
            let empty = try RuleLoader.load(
                directory: directory.appendingPathComponent("rules").path,
                shadowDirectory: directory.appendingPathComponent("rules.shadow").path)
            #expect(empty.shadow == nil, "an empty candidate directory is allowed")
            try candidate.write(to: directory.appendingPathComponent("rules.shadow/c.yaml"), atomically: true, encoding: .utf8)
            let loaded = try RuleLoader.load(
                directory: directory.appendingPathComponent("rules").path,
                shadowDirectory: directory.appendingPathComponent("rules.shadow").path)
            #expect(loaded.shadow?.rules.first?.keywords == ["bluebird", "redwing"])
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
