import Foundation
import GatewayAudit
import GatewayConfig
import GatewayRules
import GatewayReports
import NIOCore
import NIOHTTP1
import Testing
@testable import GatewayCore

extension GatewayIntegration {
    /// People in the loop: requests held for review (`review.escalate`), the queue, and sampling for review after
    /// the fact (`review.sampling`).
    @Suite("Review queue and sampling")
    struct ReviewQueue {
        /// A rule of modest confidence (0.6, above the policy minimum 0.5), so the confidence threshold can hold it.
        static let probableRule = """
            rules:
              - id: probable-codename
                description: A word that may be a customer's project codename
                category: pii
                type: codename
                pattern: 'Operation [A-Z][a-z]+'
                keywords: [operation]
                confidence: 0.6
                examples:
                  match: ['notes on Operation Lantern']
                  no_match: ['operation complete']
            """
        static let card = "4111 1111 1111 1111"
        static let awsKey = "AKIAL2YY5HLGNUZLUMHX"

        static func chat(_ text: String) -> String {
            #"{"model":"gpt-4o","messages":[{"role":"user","content":"\#(text)"}]}"#
        }

        /// Appends `section` to the gateway's own policy and rules, and reloads.
        static func configure(_ gateway: GatewayHarness, policy section: String) async throws {
            let policy = gateway.directory.appendingPathComponent("policy.yaml")
            let text = try String(contentsOf: policy, encoding: .utf8) + "\n" + section + "\n"
            try text.write(to: policy, atomically: true, encoding: .utf8)
            try Self.probableRule.write(
                to: gateway.directory.appendingPathComponent("rules/zz-probable.yaml"), atomically: true, encoding: .utf8)
            let report = await gateway.server.reload()
            #expect(report.applied, "reload: \(report)")
        }

        @Test("Low confidence and listed categories hold a request for review; a sure block stays a block; release forwards once")
        func escalation() async throws {
            var options = GatewayHarness.Options()
            options.ownPolicyAndRules = true
            try await GatewayHarness.run(options) { gateway in
                try await Self.configure(gateway, policy: """
                    review:
                      escalate: {categories: [pci], below_confidence: 0.8}
                      max_age_hours: 4
                    """)
                let low = try await gateway.client.send(.json("/v1/chat/completions", Self.chat("status of Operation Lantern?")))
                #expect(low.status == .forbidden)
                #expect(low.openAIError?["code"] as? String == "held_for_review")
                let message = try #require(low.openAIError?["message"] as? String)
                #expect(message.contains("ticket"), "the refusal names its ticket: \(message)")

                let card = try await gateway.client.send(.json("/v1/chat/completions", Self.chat("card \(Self.card)")))
                #expect(card.status == .forbidden)
                #expect(card.openAIError?["code"] as? String == "held_for_review")

                let sure = try await gateway.client.send(
                    .json("/v1/chat/completions", Self.chat("card \(Self.card) key \(Self.awsKey)")))
                #expect(sure.openAIError?["code"] as? String == "sensitive_data_blocked", "the secret is not escalated: block")

                let clean = try await gateway.client.send(.json("/v1/chat/completions", Self.chat("hello")))
                #expect(clean.status == .ok)
                #expect(gateway.vendor.requests(containing: "Lantern").isEmpty)
                #expect(gateway.vendor.requests(containing: "4111").isEmpty)

                let location = GatewayIntegration.Audit.location(gateway)
                let lowRecord = try #require(GatewayIntegration.Audit.record(gateway, requestID: low.requestID)).record
                #expect(lowRecord.decision == .review)
                #expect(lowRecord.reason.rawValue == "review.held")
                #expect(lowRecord.escalation == ["confidence<0.8"])
                #expect(lowRecord.quarantined)
                #expect(message.contains(lowRecord.id.short), "the ticket is the record's id")
                let cardRecord = try #require(GatewayIntegration.Audit.record(gateway, requestID: card.requestID)).record
                #expect(cardRecord.escalation == ["category:pci"])
                #expect(GatewayIntegration.Audit.record(gateway, requestID: sure.requestID)?.record.decision == .block)

                let store = try LocalReviewStore(location: location)
                let queue = try store.queue(now: Date())
                #expect(queue.map(\.recordID) == [lowRecord.id, cardRecord.id], "the queue, oldest first")
                #expect(queue.first?.reasons == ["confidence<0.8"])
                #expect(QueueSnapshot(queue, maxAgeSeconds: 4 * 3600).overdue == 0)
                #expect(QueueSnapshot(queue, maxAgeSeconds: 0).overdue == 2, "past the age limit, both are overdue")

                // A reviewer releases the first: the sender resends with the token, and it goes out once.
                let desk = ReviewDesk(quarantine: store.quarantine, ledger: store.ledger)
                let log = try await AuditLog.open(location.reviewLog)
                let (token, _) = try await desk.release(lowRecord.id, reviewer: "sec", reason: "a project name", log: log)
                try await desk.deny(cardRecord.id, reviewer: "sec", reason: "a real card", log: log)
                try await log.close()
                #expect(try store.queue(now: Date()).isEmpty, "decided items leave the queue")
                let released = try await gateway.client.send(
                    .json("/v1/chat/completions", Self.chat("status of Operation Lantern?"), headers: [("x-gateway-release", token)]))
                #expect(released.status == .ok)
                // Released as the policy decides it: the held finding is one the policy redacts.
                #expect(gateway.vendor.requests(containing: "status of ").count == 1)
                #expect(gateway.vendor.requests(containing: "Lantern").isEmpty, "the release lifts the hold, not the redaction")
                #expect(GatewayIntegration.Audit.record(gateway, requestID: released.requestID)?.record.decision == .released)
            }
        }

        @Test("A policy escalating a rule the rule set lacks is refused, not silently idle")
        func unknownEscalationRule() async throws {
            var options = GatewayHarness.Options()
            options.ownPolicyAndRules = true
            try await GatewayHarness.run(options) { gateway in
                let policy = gateway.directory.appendingPathComponent("policy.yaml")
                let text = try String(contentsOf: policy, encoding: .utf8) + "\nreview: {escalate: {rules: [no-such-rule]}}\n"
                try text.write(to: policy, atomically: true, encoding: .utf8)
                let report = await gateway.server.reload()
                #expect(!report.applied)
                #expect("\(report)".contains("no-such-rule"))
            }
        }

        @Test("The escalation rule: any escalating finding holds, unless a finding that does not escalate blocks")
        func escalationRule() {
            let escalation = ReviewPolicy.Escalation(categories: ["pci"], rules: ["r1"], roles: ["contractor"], belowConfidence: 0.7)
            #expect(escalation.reason(category: "pii", rule: "x", role: "engineer", confidence: 0.6, enforced: true) == "confidence<0.7")
            #expect(escalation.reason(category: "pii", rule: "x", role: "engineer", confidence: 0.6, enforced: false) == nil,
                    "an allowed finding is not uncertain enforcement")
            #expect(escalation.reason(category: "pii", rule: "x", role: "contractor", confidence: 0.9, enforced: true) == "role:contractor")
            #expect(escalation.reason(category: "secret", rule: "r1", role: nil, confidence: 0.99, enforced: true) == "rule:r1")
            #expect(escalation.reason(category: "pii", rule: "x", role: nil, confidence: 0.9, enforced: true) == nil)
        }

        @Test("A block that rests on more than findings (an unreadable document) is never held, whatever escalates")
        func unreadableDocumentStaysBlocked() throws {
            let rules = try RuleLoader.load(directory: repositoryRoot.appendingPathComponent("rules").path)
            let inspector = BodyInspector(rules: rules, fingerprintKey: Array(repeating: 7, count: 32))
            let garbage = Data((0..<600).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }).base64EncodedString()
            let body = #"{"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"text","text":"mail dana.whitfield@acme-widgets.co.uk"},{"type":"file","file":{"filename":"a.bin","file_data":"data:application/octet-stream;base64,\#(garbage)"}}]}]}"#
            let decision = try inspector.inspect(body: Array(body.utf8), contentType: "application/json", contentEncoding: nil)
            #expect(decision.isBlocked && decision.blocksBeyondFindings)
            #expect(decision.findings.contains { $0.category.rawValue == "pii" })
            let escalation = ReviewPolicy.Escalation(categories: ["pii"])
            #expect(ClassificationFilter.escalationReasons(decision, escalation: escalation, role: nil) == nil)
            let mailOnly = try inspector.inspect(
                body: Array(#"{"messages":[{"role":"user","content":"mail dana.whitfield@acme-widgets.co.uk"}]}"#.utf8),
                contentType: "application/json", contentEncoding: nil)
            #expect(ClassificationFilter.escalationReasons(mailOnly, escalation: escalation, role: nil) == ["category:pii"])
        }

        @Test("Sampling keeps its share of 2,000 forwarded requests, redacted and encrypted, within statistical tolerance")
        func sampling() async throws {
            var options = GatewayHarness.Options()
            options.ownPolicyAndRules = true
            try await GatewayHarness.run(options, timeLimit: .seconds(240)) { gateway in
                try await Self.configure(gateway, policy: """
                    review:
                      sampling: {roles: {engineer: 0.3}}
                    """)
                let email = "dana.whitfield@acme-widgets.co.uk"
                let total = 2000
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for worker in 0..<4 {
                        group.addTask {
                            for index in stride(from: worker, to: total, by: 4) {
                                let response = try await gateway.client.send(
                                    .json("/v1/chat/completions", Self.chat("request \(index) mail \(email)")))
                                #expect(response.status == .ok)
                            }
                        }
                    }
                    try await group.waitForAll()
                }
                let records = GatewayIntegration.Audit.views(gateway).map(\.record).filter { $0.decision == .redact }
                #expect(records.count == total)
                let sampled = records.filter { $0.sampled == true }
                // Binomial(2000, 0.3): mean 600, standard deviation 20.5; ±5 deviations (never fails by chance).
                #expect((498...702).contains(sampled.count), "sampled \(sampled.count) of \(total)")
                let location = GatewayIntegration.Audit.location(gateway)
                let quarantine = try Quarantine(directory: location.samplesDirectory, keyFile: location.quarantineKeyFile)
                #expect(try Quarantine(location: location).entries().isEmpty, "samples are kept apart from the queue")
                // Samples are kept off the request path: wait (bounded) for the keeper to catch up.
                var kept = quarantine.entries().filter { $0.kept == .sample }
                for _ in 0..<100 where kept.count < sampled.count {
                    try await Task.sleep(for: .milliseconds(100))
                    kept = quarantine.entries().filter { $0.kept == .sample }
                }
                #expect(Set(kept.map(\.recordID)) == Set(sampled.map(\.id)), "every sampled record's body is kept")
                let body = String(decoding: try quarantine.open(try #require(kept.first).recordID), as: UTF8.self)
                #expect(body.contains("request "), "the forwarded body")
                #expect(!body.contains(email), "kept as forwarded: redacted, nothing raw")
                #expect(!GatewayIntegration.Audit.allBytes(gateway).contains(subsequence: Array(email.utf8)))
            }
        }
    }
}

extension Array where Element == UInt8 {
    fileprivate func contains(subsequence: [UInt8]) -> Bool {
        guard !subsequence.isEmpty, subsequence.count <= self.count else { return false }
        return (0...(self.count - subsequence.count)).contains { self[$0..<$0 + subsequence.count].elementsEqual(subsequence) }
    }
}

/// The review targets as metrics: what `gatewayctl report` flags, `/metrics` counts.
@Suite("Review target metrics")
struct ReviewTargetMetrics {
    @Test("A coverage target and an overdue queue item show as breaches; labelling enough clears coverage")
    func breachesBecomeGauges() async throws {
        let location = AuditLocation(directory: NSTemporaryDirectory() + "targets-\(UUID().uuidString)/audit")
        let log = try await AuditLog.open(AuditLogConfiguration(location: location))
        var records: [DecisionRecord] = []
        for _ in 0..<10 {
            let record = DecisionRecord(
                requestID: "r", instance: "t", clientAddress: nil, identity: Identity(user: "ana", role: "engineer"),
                provider: "openai", method: "POST", target: "/v1/chat/completions", model: "gpt-4o", decision: .allow,
                reason: "clean", bytesIn: 10, ruleSetHash: nil, policyHash: nil)
            try await log.append(record)
            records.append(record)
        }
        try await log.close()
        let store = try LocalReviewStore(location: location)
        try store.keep(body: Array("held".utf8), recordID: .generate(), sender: Sender(user: "ana", keyID: nil), purpose: .review,
                       reasons: ["category:pci"])
        let policyText = """
            roles: {engineer: {providers: "*", models: "*"}}
            review: {max_age_hours: 0.01, targets: {coverage: 0.3}}
            """
        let fixture = try PolicyFixture(policyText)
        let monitor = GovernanceMonitor(records: SummaryIndex(auditDirectory: location.directory), store: store)
        let metrics = GatewayMetrics()
        let later = Date().addingTimeInterval(120)
        let report = try monitor.evaluate(policy: fixture.policy, now: later)
        metrics.reviewTargets(coverage: report.review.coverage, breaches: GovernanceMonitor.breaches(report))
        var text = metrics.render()
        #expect(text.contains(#"gateway_review_target_breaches{kind="coverage"} 1"#), "\(text)")
        #expect(text.contains(#"gateway_review_target_breaches{kind="queue_age"} 1"#))

        for record in records.prefix(4) { try await store.label(record, verdict: .correct, reviewer: "sec", note: nil) }
        let covered = try monitor.evaluate(policy: fixture.policy, now: later)
        metrics.reviewTargets(coverage: covered.review.coverage, breaches: GovernanceMonitor.breaches(covered))
        text = metrics.render()
        #expect(covered.review.coverage == 0.4)
        #expect(text.contains(#"gateway_review_target_breaches{kind="coverage"} 0"#))
        #expect(text.contains("gateway_review_coverage_ratio 0.4"))
    }
}

/// A policy loaded from text through the configuration loader, as gatewayd loads it.
struct PolicyFixture {
    let policy: RolePolicy

    init(_ text: String) throws {
        let directory = NSTemporaryDirectory() + "policy-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory + "/rules", withIntermediateDirectories: true)
        try text.write(toFile: directory + "/policy.yaml", atomically: true, encoding: .utf8)
        let yaml = """
            providers:
              - {name: openai, base_url: https://api.openai.com, paths: [/v1/chat/completions], credential: {header: Authorization, value: a}}
            rules: {directory: rules}
            policy: {file: policy.yaml}
            """
        self.policy = try ConfigLoader.load(contents: yaml, path: directory + "/gateway.yaml", environment: [:]).rolePolicy
    }
}
