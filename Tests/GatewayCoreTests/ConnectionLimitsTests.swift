import Foundation
import GatewayAudit
import NIOCore
import Testing

@testable import GatewayCore

/// Issue 12, defect 2: every wait a caller controls has a timeout, and what callers make the gateway hold has a
/// bound. The state machine first, then each limit against a running gateway with short settings.
@Suite("Connection clock")
struct ConnectionClockTests {
    static let limits = ConnectionClock.Limits(handshake: .seconds(10), head: .seconds(30), body: .seconds(60), keepAlive: .seconds(75))

    @Test func aRequestCycleArmsEachTimeoutInTurn() {
        var clock = ConnectionClock(limits: Self.limits)
        #expect(clock.accepted() == .arm(.seconds(10), .tlsHandshakeTimeout))
        #expect(clock.bytesReceived() == .keep)  // TLS records before the handshake ends are the handshake's
        #expect(clock.handshakeCompleted() == .arm(.seconds(30), .requestHeadTimeout))
        #expect(clock.bytesReceived() == .keep)  // the first request's head timeout runs from the handshake
        #expect(clock.state == .readingHead)
        #expect(clock.headReceived() == .arm(.seconds(60), .requestBodyTimeout))
        #expect(clock.bytesReceived() == .keep)
        #expect(clock.bodyReceived() == .cancel)
        #expect(clock.bytesReceived() == .keep)  // a pipelined request waits for the response
        #expect(clock.state == .busy)
        #expect(clock.responseEnded() == .arm(.seconds(75), .keepAliveTimeout))
        #expect(clock.bytesReceived() == .arm(.seconds(30), .requestHeadTimeout))
        #expect(clock.state == .readingHead)
    }

    @Test func aSecondHandshakeEventChangesNothing() {
        var clock = ConnectionClock(limits: Self.limits)
        _ = clock.handshakeCompleted()
        _ = clock.bytesReceived()
        #expect(clock.handshakeCompleted() == .keep)
        #expect(clock.state == .readingHead)
    }
}

extension GatewayIntegration {
    @Suite("Connection limits")
    struct ConnectionLimitsIntegration {
        static let body = #"{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}"#

        static func options(_ limits: [String]) -> GatewayHarness.Options {
            var options = GatewayHarness.Options()
            options.extraLimits = limits
            return options
        }

        static func limitHits(_ gateway: GatewayHarness, _ limit: String) async throws -> Int {
            let metrics = try await Admin.get(gateway, "/metrics").body
            let prefix = #"gateway_limit_hits_total{limit="\#(limit)"} "#
            return metrics.split(separator: "\n").first { $0.hasPrefix(prefix) }.flatMap { Int($0.dropFirst(prefix.count)) } ?? 0
        }

        @Test("Connections that never finish TLS, never send a head, send it slowly, or idle between requests are closed")
        func timeoutsCloseStalledConnections() async throws {
            let options = Self.options([
                "tls_handshake_timeout_seconds: 1", "request_head_timeout_seconds: 1", "request_body_timeout_seconds: 1",
                "keep_alive_timeout_seconds: 1",
            ])
            try await GatewayHarness.run(options) { gateway in
                let noHello = try await gateway.client.openRawConnection(tls: false)
                let silent = try await gateway.client.openRawConnection()
                let slowHead = try await gateway.client.openRawConnection()
                let slowBody = try await gateway.client.openRawConnection()
                try await slowHead.write("POST /v1/chat/completions HTTP/1.1\r\nHost: gw\r\n")
                try await slowBody.write(
                    "POST /v1/chat/completions HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer \(gateway.gatewayKey)\r\n"
                        + "Content-Type: application/json\r\nContent-Length: \(Self.body.utf8.count)\r\n\r\n{\"mo"
                )
                for (name, connection) in [("no hello", noHello), ("silent", silent), ("slow head", slowHead), ("slow body", slowBody)] {
                    let closed = await connection.closedAfter(within: .seconds(4))
                    #expect(closed != nil, "\(name): still open")
                    if let closed { #expect(closed >= .milliseconds(900), "\(name): closed too early (\(closed))") }
                }
                // Keep-alive: a connection that served a request and then idles is closed too.
                let idle = try await gateway.client.openRawConnection()
                try await idle.write(
                    "POST /v1/chat/completions HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer \(gateway.gatewayKey)\r\n"
                        + "Content-Type: application/json\r\nContent-Length: \(Self.body.utf8.count)\r\n\r\n\(Self.body)"
                )
                #expect(await idle.closedAfter(within: .seconds(4)) != nil, "idle keep-alive connection still open")
                #expect(idle.received.status == 200)
                #expect(try await Self.limitHits(gateway, "tls_handshake_timeout") >= 1)
                #expect(try await Self.limitHits(gateway, "request_head_timeout") >= 2)
                #expect(try await Self.limitHits(gateway, "request_body_timeout") == 1)
                #expect(try await Self.limitHits(gateway, "keep_alive_timeout") == 1)
                // None of this wrote a decision record: only the one request that was served did.
                #expect(Audit.views(gateway).count == 1, "records: \(Audit.views(gateway).count)")
            }
        }

        @Test("Past max_connections new connections are closed at accept; open ones keep working")
        func connectionCap() async throws {
            try await GatewayHarness.run(Self.options(["max_connections: 3"])) { gateway in
                var held: [RawConnection] = []
                for _ in 0..<3 { held.append(try await gateway.client.openRawConnection()) }
                let extra = try await gateway.client.openRawConnection(tls: false)
                #expect(await extra.closedAfter(within: .seconds(2)) != nil, "the connection past the cap stayed open")
                try await held[0].write(
                    "POST /v1/chat/completions HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer \(gateway.gatewayKey)\r\n"
                        + "Content-Type: application/json\r\nConnection: close\r\nContent-Length: \(Self.body.utf8.count)\r\n\r\n\(Self.body)"
                )
                _ = await held[0].closedAfter(within: .seconds(5))
                #expect(held[0].received.status == 200, "an established client was disturbed")
                #expect(try await Self.limitHits(gateway, "connection_cap") == 1)
                // A slot freed by a closed connection is usable again.
                try await Task.sleep(for: .milliseconds(100))
                let response = try await gateway.client.send(.json("/v1/chat/completions", Self.body))
                #expect(response.status == .ok)
                for connection in held { await connection.close() }
            }
        }

        @Test("Bodies past max_buffered_body_bytes get 503 with Retry-After; the bodies already held and small ones go on")
        func bodyBudget() async throws {
            let big = #"{"model":"gpt-4o","messages":[{"role":"user","content":""# + String(repeating: "a", count: 100_000) + #""}]}"#
            try await GatewayHarness.run(Self.options(["max_buffered_body_bytes: 150000"])) { gateway in
                let head = "POST /v1/chat/completions HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer \(gateway.gatewayKey)\r\n"
                    + "Content-Type: application/json\r\nConnection: close\r\nContent-Length: \(big.utf8.count)\r\n\r\n"
                // Heads alone hold nothing: ten of them declaring large bodies leave the budget free.
                var heads: [RawConnection] = []
                for _ in 0..<10 {
                    let idle = try await gateway.client.openRawConnection()
                    try await idle.write(head)
                    heads.append(idle)
                }
                let first = try await gateway.client.openRawConnection()
                try await first.write(head + big.prefix(90_000))
                try await Task.sleep(for: .milliseconds(300))
                let second = try await gateway.client.sendRaw(Array((head + big).utf8))
                #expect(second.status == 503, "second: \(second.text.prefix(200))")
                #expect(second.header("retry-after") == "2")
                // Ordinary small requests are never starved by large uploads holding the budget.
                let small = try await gateway.client.send(.json("/v1/chat/completions", Self.body))
                #expect(small.status == .ok)
                try await first.write(String(big.dropFirst(90_000)))
                _ = await first.closedAfter(within: .seconds(5))
                #expect(first.received.status == 200)
                #expect(try await Self.limitHits(gateway, "body_budget") == 1)
                // Once the first body is gone, the budget is free again.
                let third = try await gateway.client.sendRaw(Array((head + big).utf8))
                #expect(third.status == 200)
                for connection in heads { await connection.close() }
            }
        }
    }
}
