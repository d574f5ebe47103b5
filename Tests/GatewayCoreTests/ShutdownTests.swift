import Foundation
import NIOHTTP1
import Synchronization
import Testing

extension GatewayIntegration {
    @Suite("Graceful shutdown (SIGTERM)")
    struct Shutdown {
        @Test("shutdown() during an SSE stream: the stream completes, then new connections are refused and run() returns")
        func drainLetsStreamFinish() async throws {
            try await GatewayHarness.run(GatewayHarness.Options(drainSeconds: 10)) { gateway in
                let marker = makeMarker()
                let shutdownAt = Mutex<ContinuousClock.Instant?>(nil)
                let server = gateway.server
                let response = try await gateway.client.send(
                    .json(
                        "/v1/chat/completions?m=\(marker)", #"{"model":"gpt-4o","stream":true,"messages":[]}"#,
                        headers: [("x-fake-events", "8"), ("x-fake-delay-ms", "120")]
                    ),
                    onFirstBodyPart: {
                        // What the SIGTERM handler of gatewayd does.
                        shutdownAt.withLock { $0 = .now }
                        server.shutdown()
                    }
                )
                let shutdownTime = try #require(shutdownAt.withLock { $0 })
                #expect(response.status == .ok)
                #expect(response.text == FakeAPI.openAIStream(model: "gpt-4o", events: 8).joined(), "the stream was cut")
                #expect(response.text.hasSuffix("data: [DONE]\n\n"))
                let lastPart = try #require(response.bodyParts.last?.arrived)
                #expect(lastPart - shutdownTime >= .milliseconds(500), "the stream did not run on after shutdown()")

                #expect(await gateway.client.canConnect() == false, "the listener still accepts connections")
                try await gateway.waitForRunToReturn(within: .seconds(5))
                // After run() returned, still nothing listens.
                #expect(await gateway.client.canConnect() == false)
            }
        }

        @Test("shutdown() with only an idle connection open: it is closed at once and run() returns promptly")
        func drainIdle() async throws {
            try await GatewayHarness.run(GatewayHarness.Options(drainSeconds: 10)) { gateway in
                let response = try await gateway.client.send(.json("/v1/chat/completions", #"{"model":"gpt-4o","messages":[]}"#))
                #expect(response.status == .ok)
                let idle = try await gateway.client.openIdleConnection()
                try await Task.sleep(for: .milliseconds(100))
                #expect(idle.isActive)
                let started = ContinuousClock.now
                gateway.server.shutdown()
                try await withDeadline(.seconds(3), "closing the idle connection") { try await idle.closeFuture.get() }
                try await gateway.waitForRunToReturn(within: .seconds(5))
                #expect(ContinuousClock.now - started < .seconds(3), "run() waited for the drain time with nothing in flight")
                #expect(await gateway.client.canConnect() == false)
            }
        }

        @Test("A stream longer than drain_seconds is cut at the drain deadline and run() returns")
        func drainDeadline() async throws {
            try await GatewayHarness.run(GatewayHarness.Options(drainSeconds: 1)) { gateway in
                let marker = makeMarker()
                let server = gateway.server
                let shutdownAt = Mutex<ContinuousClock.Instant?>(nil)
                let request = TestRequest.json(
                    "/v1/chat/completions?m=\(marker)", #"{"model":"gpt-4o","stream":true,"messages":[]}"#,
                    headers: [("x-fake-events", "60"), ("x-fake-delay-ms", "100")]
                )
                do {
                    let response = try await gateway.client.send(request, timeout: .seconds(10)) {
                        shutdownAt.withLock { $0 = .now }
                        server.shutdown()
                    }
                    // A clean end is acceptable only if the stream was visibly cut.
                    #expect(!response.text.contains("[DONE]"), "the whole 6 s stream was served despite drain_seconds: 1")
                } catch is ConnectionClosedEarly {
                    // The connection was closed under the stream: expected.
                }
                let shutdownTime = try #require(shutdownAt.withLock { $0 })
                try await gateway.waitForRunToReturn(within: .seconds(5))
                let stopped = ContinuousClock.now - shutdownTime
                #expect(stopped < .seconds(4), "run() returned \(stopped) after shutdown() with drain_seconds: 1")
                #expect(stopped >= .milliseconds(900), "run() returned before the drain time: \(stopped)")
            }
        }
    }
}
