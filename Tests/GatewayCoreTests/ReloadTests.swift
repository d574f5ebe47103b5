import Foundation
import GatewayAudit
import Synchronization
import Testing
@testable import GatewayCore

extension GatewayIntegration {
    /// Reloading the configuration, policy and rules while traffic flows.
    @Suite("Configuration reload")
    struct Reload {
        static let chat = #"{"model":"gpt-4o","messages":[{"role":"user","content":"hello"}]}"#

        /// What the load's callers share.
        final class Load: Sendable {
            let stop = Atomic<Bool>(false)
            let failures = Mutex<[String]>([])
            let served = Atomic<Int>(0)
        }

        static func location(_ gateway: GatewayHarness) -> AuditLocation {
            AuditLocation(directory: gateway.directory.appendingPathComponent("var/audit").path)
        }

        @Test("20 reloads under steady load, one invalid: no request fails, and every record names the set it was decided under")
        func reloadsUnderLoad() async throws {
            var options = GatewayHarness.Options()
            options.ownPolicyAndRules = true
            try await GatewayHarness.run(options, timeLimit: .seconds(120)) { gateway in
                let policyFile = gateway.directory.appendingPathComponent("policy.yaml")
                let ruleFile = gateway.directory.appendingPathComponent("rules/pii.yaml")
                let original = try String(contentsOf: policyFile, encoding: .utf8)
                let originalRules = try String(contentsOf: ruleFile, encoding: .utf8)
                let load = Load()
                // Steady load: four callers, one request after another, until the reloads are done.
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for caller in 0..<4 {
                        group.addTask {
                            while !load.stop.load(ordering: .relaxed) {
                                let response = try await gateway.client.send(
                                    .json("/v1/chat/completions?load=\(caller)", Self.chat))
                                load.served.add(1, ordering: .relaxed)
                                if response.status != .ok {
                                    load.failures.withLock { $0.append("\(response.status): \(String(decoding: response.body, as: UTF8.self))") }
                                }
                            }
                        }
                    }
                    var expected: [(probe: String?, hashes: RuleSetIdentity)] = []
                    var inForce = gateway.server.identityInForce
                    let initial = inForce
                    var applied = 0
                    for round in 1...20 {
                        if round == 10 {
                            try "roles: [unclosed\n".write(to: policyFile, atomically: true, encoding: .utf8)
                        } else {
                            // The same policy, different bytes: a new hash, the same decisions.
                            try (original + "\n# revision \(round)\n").write(to: policyFile, atomically: true, encoding: .utf8)
                            if round % 5 == 0 {
                                try (originalRules + "\n# revision \(round)\n")
                                    .write(to: ruleFile, atomically: true, encoding: .utf8)
                            }
                        }
                        let report = await gateway.server.reload()
                        if round == 10 {
                            #expect(!report.applied)
                            #expect(report.inForce == inForce, "a refused reload leaves the set in force")
                            #expect(!report.problems.isEmpty)
                        } else {
                            #expect(report.applied, "\(report)")
                            #expect(report.inForce.policyHash != inForce.policyHash)
                            if round % 5 == 0 { #expect(report.inForce.ruleSetHash != inForce.ruleSetHash) }
                            inForce = report.inForce
                            applied += 1
                        }
                        let probe = try await gateway.client.send(.json("/v1/chat/completions?probe=\(round)", Self.chat))
                        #expect(probe.status == .ok)
                        expected.append((probe.requestID, inForce))
                    }
                    load.stop.store(true, ordering: .relaxed)
                    try await group.waitForAll()
                    #expect(applied == 19)

                    #expect(load.failures.withLock { $0 }.isEmpty, "failed under reloads: \(load.failures.withLock { $0.prefix(3) })")
                    #expect(load.served.load(ordering: .relaxed) > 20, "the load kept flowing")
                    let views = AuditReader.views(location: Self.location(gateway))
                    for (probe, hashes) in expected {
                        let record = try #require(views.first { $0.record.requestID == probe })
                        #expect(record.record.policyHash == hashes.policyHash, "probe \(probe ?? "")")
                        #expect(record.record.ruleSetHash == hashes.ruleSetHash, "probe \(probe ?? "")")
                    }
                    // Every record (the load's too) names a set that was in force.
                    let valid = Set(expected.map(\.hashes.policyHash) + [initial.policyHash])
                    #expect(views.allSatisfy { valid.contains($0.record.policyHash ?? "") })
                    let events = AuditReader.entries(directory: Self.location(gateway).directory).compactMap(\.config)
                    #expect(events.filter { $0.event == .configReloaded }.count == 19)
                    let failed = try #require(events.first { $0.event == .configReloadFailed })
                    #expect(failed.problems?.isEmpty == false)
                    #expect(events.last?.policyHash == inForce.policyHash)
                }
            }
        }

        @Test("Settings that need a restart are named, and keep their running values")
        func restartOnlySettingsNamed() async throws {
            var options = GatewayHarness.Options()
            options.ownPolicyAndRules = true
            let maxBodyBytes = options.maxBodyBytes
            try await GatewayHarness.run(options) { gateway in
                let file = gateway.directory.appendingPathComponent("gateway.yaml")
                let yaml = try String(contentsOf: file, encoding: .utf8)
                let changed = yaml.replacingOccurrences(
                    of: "max_body_bytes: \(maxBodyBytes)", with: "max_body_bytes: 1024")
                    .replacingOccurrences(of: "shutdown: {drain_seconds: 10}", with: "shutdown: {drain_seconds: 3}")
                #expect(changed != yaml)
                try changed.write(to: file, atomically: true, encoding: .utf8)
                let report = await gateway.server.reload()
                #expect(report.applied)
                #expect(report.restartRequired.contains("limits"))
                #expect(report.restartRequired.contains("shutdown"))
                // The running limit stays: a 2 KiB body is still accepted.
                let body = #"{"model":"gpt-4o","messages":[{"role":"user","content":"\#(String(repeating: "a", count: 2048))"}]}"#
                #expect(try await gateway.client.send(.json("/v1/chat/completions", body)).status == .ok)
            }
        }

        @Test("POST /reload on the admin listener reloads and answers the report as JSON; an invalid policy gives 422")
        func adminReload() async throws {
            var options = GatewayHarness.Options()
            options.ownPolicyAndRules = true
            try await GatewayHarness.run(options) { gateway in
                let admin = gateway.ports.admin
                let refusedMethod = try await AdminClient.send("GET", "/reload", host: "127.0.0.1", port: admin)
                #expect(refusedMethod.status == 405)
                let applied = try await AdminClient.send("POST", "/reload", host: "127.0.0.1", port: admin)
                #expect(applied.status == 200)
                #expect(applied.body.contains(#""applied":true"#))
                #expect(applied.body.contains(gateway.server.identityInForce.policyHash))
                let report = try #require(ReloadReport(json: applied.body), "gatewayctl reads the answer back")
                #expect(report.applied && report.inForce == gateway.server.identityInForce)
                let policy = gateway.directory.appendingPathComponent("policy.yaml")
                try "roles:\n  engineer: {providers: [nowhere], models: \"*\"}\n".write(to: policy, atomically: true, encoding: .utf8)
                let refused = try await AdminClient.send("POST", "/reload", host: "127.0.0.1", port: admin)
                #expect(refused.status == 422)
                #expect(refused.body.contains(#""applied":false"#))
                #expect(refused.body.contains("nowhere"), "the problem is named: \(refused.body)")
                let refusal = try #require(ReloadReport(json: refused.body))
                #expect(!refusal.applied && refusal.description.contains("nowhere"))
            }
        }
    }
}
