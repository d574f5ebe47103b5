import Foundation
import GatewayAccess
import NIOHTTP1
import Testing

extension GatewayIntegration {
    /// Keys created and revoked with the keys file (what `gatewayctl keys` writes) while the gateway runs.
    @Suite("Gateway keys while running")
    struct KeyLifecycle {
        @Test("A key created while the gateway runs works, and once revoked is refused within a second")
        func createAndRevokeWithoutRestart() async throws {
            try await GatewayHarness.run { gateway in
                let path = gateway.directory.appendingPathComponent("var/keys.json").path
                let key = GatewayKey.generate()
                var file = try GatewayAccess.KeyFile.load(path: path)
                file.keys.append(KeyRecord(id: key.id, user: "newcomer", role: "engineer", digest: key.digest, created: Date(), expires: nil))
                try file.save(path: path)

                var request = TestRequest.json(
                    "/v1/chat/completions", #"{"model":"gpt-4o","messages":[]}"#,
                    headers: [("Authorization", "Bearer \(key.text)")]
                )
                request.credential = .none  // the new key, not the harness's
                let accepted = try await Self.firstStatus(gateway, request, within: .seconds(1)) { $0 == .ok }
                #expect(accepted == .ok, "a new key was not accepted within a second")

                let idle = try await gateway.client.openIdleConnection()  // connections survive the reload
                file.keys[file.keys.count - 1].revoked = Date()
                try file.save(path: path)
                let refused = try await Self.firstStatus(gateway, request, within: .seconds(1)) { $0 == .unauthorized }
                #expect(refused == .unauthorized, "a revoked key was still served after a second")
                #expect(idle.isActive)
                try? await idle.close()  // the test client does not wait for the close_notify answer
                // Other keys are unaffected.
                #expect(try await gateway.client.send(.json("/v1/chat/completions", #"{"model":"gpt-4o","messages":[]}"#)).status == .ok)
            }
        }

        /// Sends `request` until `accept` holds for its status or `within` passes; returns the last status.
        static func firstStatus(
            _ gateway: GatewayHarness, _ request: TestRequest, within: Duration,
            accept: (HTTPResponseStatus) -> Bool
        ) async throws -> HTTPResponseStatus {
            let deadline = ContinuousClock.now + within
            var status = HTTPResponseStatus.internalServerError
            repeat {
                status = try await gateway.client.send(request).status
                if accept(status) { return status }
                try await Task.sleep(for: .milliseconds(50))
            } while ContinuousClock.now < deadline
            return status
        }
    }
}
