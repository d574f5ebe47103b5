import Foundation
import GatewayAudit
import NIOCore
import NIOHTTP1
import NIOPosix
import Testing

extension GatewayIntegration {
    /// Decision records as the request phases write them: one per request, durable before anything leaves, never
    /// holding a sensitive value, and the review flow through the gateway.
    @Suite("Decision records")
    struct Audit {
        static let awsKey = "AKIAL2YY5HLGNUZLUMHX"
        static let email = "dana.whitfield@acme-widgets.co.uk"

        static func location(_ gateway: GatewayHarness) -> AuditLocation {
            AuditLocation(directory: gateway.directory.appendingPathComponent("var/audit").path)
        }

        static func views(_ gateway: GatewayHarness) -> [RecordView] { AuditReader.views(location: location(gateway)) }

        static func record(_ gateway: GatewayHarness, requestID: String?) -> RecordView? {
            views(gateway).first { $0.record.requestID == requestID }
        }

        /// Everything the audit features wrote: log segments, quarantine, ledger.
        static func allBytes(_ gateway: GatewayHarness) -> [UInt8] {
            let root = gateway.directory.appendingPathComponent("var").path
            var bytes: [UInt8] = []
            let files = FileManager.default.enumerator(atPath: root)?.compactMap { $0 as? String } ?? []
            for file in files { bytes += FileManager.default.contents(atPath: root + "/" + file).map(Array.init) ?? [] }
            return bytes
        }

        @Test("Each request leaves one record with its decision; the log verifies and holds no sensitive value")
        func oneRecordPerRequest() async throws {
            try await GatewayHarness.run { gateway in
                let clean = try await gateway.client.send(.json("/v1/chat/completions", #"{"model":"gpt-4o","messages":[{"role":"user","content":"hello"}]}"#))
                let redacted = try await gateway.client.send(
                    .json("/v1/chat/completions", #"{"model":"gpt-4o","messages":[{"role":"user","content":"mail \#(Self.email) now"}]}"#)
                )
                let blocked = try await gateway.client.send(
                    .json("/v1/chat/completions", #"{"model":"gpt-4o","messages":[{"role":"user","content":"key \#(Self.awsKey)"}]}"#)
                )
                let missing = try await gateway.client.send(.json("/v1/nowhere", "{}"))
                #expect([clean.status, redacted.status, blocked.status, missing.status] == [.ok, .ok, .forbidden, .notFound])

                let expected: [(TestResponse, GatewayAudit.Decision)] = [
                    (clean, .allow), (redacted, .redact), (blocked, .block), (missing, .refused),
                ]
                for (response, decision) in expected {
                    let records = Self.views(gateway).filter { $0.record.requestID == response.requestID }
                    #expect(records.count == 1, "one record for \(response.requestID ?? "?")")
                    #expect(records.first?.record.decision == decision)
                    #expect(records.first?.record.identity?.role == "engineer")
                    #expect(records.first?.record.identity?.keyID != nil)
                }
                let block = try #require(Self.record(gateway, requestID: blocked.requestID))
                #expect(block.record.quarantined)
                #expect(block.record.findings.first?.type == "aws_access_key_id")
                #expect(block.record.ruleSetHash?.count == 64 && block.record.policyHash?.count == 64)
                // The forwarded ones are completed by their outcome (written after the response).
                try await waitUntil { Self.record(gateway, requestID: clean.requestID)?.outcome != nil }
                #expect(Self.record(gateway, requestID: clean.requestID)?.outcome?.upstreamStatus == 200)

                let everything = Self.allBytes(gateway)
                for secret in [Self.awsKey, Self.email, gateway.gatewayKey, VendorKeys.openAI] {
                    #expect(!everything.contains(Array(secret.utf8)), "\(secret.prefix(6))… was written in clear")
                }
                let location = Self.location(gateway)
                let key = try #require(try GatewayAudit.KeyFile.load(path: location.keyFile))
                let report = AuditVerifier(directory: location.directory, key: key.bytes).verify()
                #expect(report.ok, "\(String(describing: report.failure))")
            }
        }

        @Test("A caller that leaves while its record is being written: nothing is forwarded, and the outcome says so")
        func callerLeavesBeforeForwarding() async throws {
            let faults = FaultInjector()
            var options = GatewayHarness.Options()
            options.auditFaults = faults
            try await GatewayHarness.run(options) { gateway in
                let marker = makeMarker()
                faults.stall(.fsync, by: .milliseconds(1500))  // a slow disk: the record takes 1.5 s to be durable
                await #expect(throws: (any Error).self) {
                    _ = try await gateway.client.send(
                        .json("/v1/chat/completions?m=\(marker)", #"{"model":"gpt-4o","messages":[]}"#),
                        timeout: .milliseconds(300)
                    )
                }
                try await Task.sleep(for: .milliseconds(1800))
                faults.clear()
                #expect(gateway.vendor.requests(containing: marker).isEmpty, "sent although the caller had left")
                try await waitUntil { Self.views(gateway).contains { $0.outcome?.error?.rawValue.hasPrefix("client.") == true } }
                let view = try #require(Self.views(gateway).first { $0.outcome?.error?.rawValue.hasPrefix("client.") == true })
                #expect(view.record.decision == .allow)
                #expect(view.outcome?.upstreamStatus == nil, "an outcome with an upstream status for a request never sent")
            }
        }

        @Test("When records cannot be written: 503, nothing forwarded, /readyz fails; service resumes by itself")
        func writeFailureFailsClosed() async throws {
            let faults = FaultInjector()
            var options = GatewayHarness.Options()
            options.auditFaults = faults
            try await GatewayHarness.run(options) { gateway in
                let marker = makeMarker()
                faults.fail(.write)
                let refused = try await gateway.client.send(.json("/v1/chat/completions?m=\(marker)", #"{"model":"gpt-4o","messages":[]}"#))
                #expect(refused.status == .serviceUnavailable)
                #expect(gateway.vendor.requests(containing: marker).isEmpty, "a request went out without its record")
                let blocked = try await gateway.client.send(
                    .json("/v1/chat/completions", #"{"model":"gpt-4o","messages":[{"role":"user","content":"\#(Self.awsKey)"}]}"#)
                )
                #expect(blocked.status == .serviceUnavailable)  // not even a block is answered without its record
                #expect(try await Self.admin(gateway, "/readyz") == 503)

                faults.clear()
                try await waitUntil(timeout: .seconds(10)) { (try? await Self.admin(gateway, "/readyz")) == 200 }
                let served = try await gateway.client.send(.json("/v1/chat/completions?m=\(marker)", #"{"model":"gpt-4o","messages":[]}"#))
                #expect(served.status == .ok)
                #expect(gateway.vendor.requests(containing: marker).count == 1)
            }
        }

        @Test("A reviewer's release lets exactly that body from that sender through once")
        func releaseRoundTrip() async throws {
            try await GatewayHarness.run { gateway in
                let body = #"{"model":"gpt-4o","messages":[{"role":"user","content":"rotate \#(Self.awsKey) today"}]}"#
                let blocked = try await gateway.client.send(.json("/v1/chat/completions", body))
                #expect(blocked.status == .forbidden)
                let record = try #require(Self.record(gateway, requestID: blocked.requestID)?.record)
                let location = Self.location(gateway)
                let entry = try Quarantine(location: location).entry(record.id)
                let (token, _) = try ReleaseLedger(location: location).issue(for: entry, reviewer: "sec-reviewer", reason: "test key")

                let other = #"{"model":"gpt-4o","messages":[{"role":"user","content":"rotate \#(Self.awsKey) tomorrow"}]}"#
                let wrongBody = try await gateway.client.send(.json("/v1/chat/completions", other, headers: [("x-gateway-release", token)]))
                #expect(wrongBody.status == .forbidden)

                let released = try await gateway.client.send(.json("/v1/chat/completions", body, headers: [("x-gateway-release", token)]))
                #expect(released.status == .ok)
                #expect(gateway.vendor.requests.filter { $0.contains(Self.awsKey) }.count == 1)
                #expect(!gateway.vendor.requests.contains { $0.contains(token) }, "the release token reached the vendor")
                #expect(Self.record(gateway, requestID: released.requestID)?.record.decision == .released)

                let again = try await gateway.client.send(.json("/v1/chat/completions", body, headers: [("x-gateway-release", token)]))
                #expect(again.status == .forbidden)
                #expect(gateway.vendor.requests.filter { $0.contains(Self.awsKey) }.count == 1)
            }
        }

        /// GET on the admin listener; returns the status code.
        static func admin(_ gateway: GatewayHarness, _ path: String) async throws -> Int {
            try await GatewayIntegration.Admin.get(gateway, path).status
        }
    }
}

/// Polls `condition` until it holds or `timeout` passes.
func waitUntil(timeout: Duration = .seconds(5), _ condition: @Sendable () async -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if await condition() { return }
        try await Task.sleep(for: .milliseconds(50))
    }
    Issue.record("condition not met within \(timeout)")
}
