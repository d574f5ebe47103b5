import Foundation
import NIOCore
import NIOHTTP1
import Testing

extension GatewayIntegration {
    /// What needs real sockets and TLS: a head arriving over several TLS records, a refused TCP connection, an
    /// upstream TLS handshake that stalls or presents the wrong certificate. The rest: `ErrorsInMemoryTests`.
    @Suite("Errors in the vendor's shape")
    struct Errors {
        /// The OpenAI error shape: `{"error":{"message","type","code"}}`, all strings, message non-empty.
        static func expectOpenAIShape(
            _ response: TestResponse, type: String, code: String, sourceLocation: SourceLocation = #_sourceLocation
        ) {
            #expect(response.headers.first(name: "content-type") == "application/json", sourceLocation: sourceLocation)
            #expect(response.requestID?.hasPrefix("req_") == true, "x-request-id missing", sourceLocation: sourceLocation)
            guard let error = response.openAIError else {
                Issue.record("not an OpenAI error body: \(response.text)", sourceLocation: sourceLocation)
                return
            }
            #expect(response.json?.count == 1, "extra top-level keys: \(response.text)", sourceLocation: sourceLocation)
            #expect((error["message"] as? String)?.isEmpty == false, sourceLocation: sourceLocation)
            #expect(error["type"] as? String == type, "type in \(response.text)", sourceLocation: sourceLocation)
            #expect(error["code"] as? String == code, "code in \(response.text)", sourceLocation: sourceLocation)
        }

        /// The Anthropic error shape: `{"type":"error","error":{"type","message"}}`.
        static func expectAnthropicShape(
            _ response: TestResponse, type: String, sourceLocation: SourceLocation = #_sourceLocation
        ) {
            #expect(response.headers.first(name: "content-type") == "application/json", sourceLocation: sourceLocation)
            #expect(response.requestID?.hasPrefix("req_") == true, "x-request-id missing", sourceLocation: sourceLocation)
            guard let error = response.anthropicError else {
                Issue.record("not an Anthropic error body: \(response.text)", sourceLocation: sourceLocation)
                return
            }
            #expect(error["type"] as? String == type, "type in \(response.text)", sourceLocation: sourceLocation)
            #expect((error["message"] as? String)?.isEmpty == false, sourceLocation: sourceLocation)
        }

        @Test("An oversized head that keeps arriving after the parser gave up still gets its 431, not a reset")
        func headersTooLargeKeepArriving() async throws {
            try await GatewayHarness.run(GatewayHarness.Options(maxHeaderBytes: 8 * 1024)) { gateway in
                // 64 KiB of header in one write: several TLS records, so bytes keep arriving after the overflow.
                let raw = "POST /v1/chat/completions HTTP/1.1\r\nHost: gateway\r\nAuthorization: Bearer \(gateway.gatewayKey)\r\n"
                    + "X-Big: \(String(repeating: "h", count: 64 * 1024))\r\nContent-Length: 2\r\n\r\n{}"
                let response = try await gateway.client.sendRaw(Array(raw.utf8))
                #expect(!response.timedOut)
                #expect(response.status == 431, "answered: \(response.text.prefix(200))")
            }
        }

        @Test("An upstream that refuses the connection gives 502")
        func upstreamRefused() async throws {
            try await GatewayHarness.run { gateway in
                let started = ContinuousClock.now
                let response = try await gateway.client.send(.json("/refused/v1/chat/completions", #"{"model":"gpt-4o"}"#))
                #expect(response.status == .badGateway)
                Self.expectOpenAIShape(response, type: "api_error", code: "upstream_unavailable")
                #expect(ContinuousClock.now - started < .seconds(2), "a refused connection must fail fast")
            }
        }

        @Test("An upstream that accepts TCP but never completes the TLS handshake gives 504 after tls_seconds")
        func upstreamTLSHandshakeTimeout() async throws {
            try await GatewayHarness.run { gateway in
                let started = ContinuousClock.now
                let response = try await gateway.client.send(.json("/silent/v1/chat/completions", #"{"model":"gpt-4o"}"#))
                let elapsed = ContinuousClock.now - started
                #expect(response.status == .gatewayTimeout)
                Self.expectOpenAIShape(response, type: "api_error", code: "upstream_timeout")
                #expect(elapsed >= .milliseconds(900) && elapsed < .seconds(4), "answered after \(elapsed)")
                #expect(gateway.silentVendor.acceptedConnections >= 1)
                let closed = await eventually(within: .seconds(2)) { gateway.silentVendor.isConnectionClosed(1) }
                #expect(closed, "the gateway left the stalled connection open")
            }
        }

        @Test("An upstream certificate for another host gives 502 and the vendor never sees the request or key")
        func upstreamWrongHostCertificate() async throws {
            try await GatewayHarness.run { gateway in
                let response = try await gateway.client.send(
                    .json("/wronghost/v1/chat/completions", #"{"model":"gpt-4o","messages":[]}"#)
                )
                #expect(response.status == .badGateway)
                Self.expectOpenAIShape(response, type: "api_error", code: "upstream_unavailable")
                #expect(gateway.wrongHostVendor.acceptedConnections >= 1, "the gateway never even tried the vendor")
                #expect(gateway.wrongHostVendor.completedHandshakes == 0, "the TLS handshake completed")
                #expect(gateway.wrongHostVendor.requests.isEmpty, "the vendor received a request")
                #expect(!response.text.contains("sk-vendor"), "the error leaks the vendor key")
                // Again and again: a failed upstream handshake must leave the gateway serving (it once crashed here,
                // dropping the half-made NIOAsyncChannel with its writer unfinished).
                for _ in 0..<20 {
                    let again = try await gateway.client.send(.json("/wronghost/v1/chat/completions", #"{"model":"gpt-4o"}"#))
                    #expect(again.status == .badGateway)
                }
                #expect(gateway.wrongHostVendor.completedHandshakes == 0)
                #expect(gateway.wrongHostVendor.requests.isEmpty)
                #expect(try await gateway.client.send(.json("/v1/chat/completions", #"{"model":"gpt-4o"}"#)).status == .ok)
            }
        }
    }
}

/// The error tests that need no sockets, on `EmbeddedGateway` with the socket harness's configuration; the error
/// shapes are checked by `GatewayIntegration.Errors`' helpers. Timeouts move the embedded loop's clock. Over sockets
/// (TLS, real TCP refusals and resets): `GatewayIntegration.Errors`.
@Suite("Errors in the vendor's shape, in memory (EmbeddedGateway)", .timeLimit(.minutes(1)))
struct ErrorsInMemoryTests {
    typealias Shapes = GatewayIntegration.Errors

    @Test("A missing or unknown gateway key is 401 in the vendor's shape and nothing is forwarded")
    func unauthenticated() async throws {
        let gateway = try await EmbeddedGateway(options: .socketHarness)
        let marker = makeMarker()
        var missing = TestRequest.json("/v1/chat/completions?m=\(marker)", #"{"model":"gpt-4o","messages":[]}"#)
        missing.credential = .none
        let noKey = try gateway.exchange(missing)
        #expect(noKey.status == .unauthorized)
        Shapes.expectOpenAIShape(noKey, type: "authentication_error", code: "unauthorized")
        var unknown = TestRequest.json(
            "/v1/messages?m=\(marker)", #"{"model":"claude-3","max_tokens":1,"messages":[]}"#,
            headers: [("x-api-key", "sk-ant-api03-not-a-gateway-key")]
        )
        unknown.credential = .none
        let wrongKey = try gateway.exchange(unknown)
        #expect(wrongKey.status == .unauthorized)
        Shapes.expectAnthropicShape(wrongKey, type: "authentication_error")
        #expect(try gateway.vendor.requests(containing: marker).isEmpty)
    }

    @Test("An unknown path is 404 in OpenAI's shape and is not forwarded")
    func unknownPath() async throws {
        let gateway = try await EmbeddedGateway(options: .socketHarness)
        let marker = makeMarker()
        let response = try gateway.exchange(.json("/v2/unknown?m=\(marker)", #"{"model":"x"}"#))
        #expect(response.status == .notFound)
        Shapes.expectOpenAIShape(response, type: "invalid_request_error", code: "not_found")
        let get = try gateway.exchange(TestRequest(method: .GET, path: "/v1/modelsX?m=\(marker)"))
        #expect(get.status == .notFound, "/v1/models must match whole segments only")
        #expect(try gateway.vendor.requests(containing: marker).isEmpty)
    }

    @Test("Errors on Anthropic's paths use Anthropic's shape")
    func anthropicShape() async throws {
        var options = EmbeddedGateway.Options.socketHarness
        options.maxBodyBytes = 64 * 1024
        let gateway = try await EmbeddedGateway(options: options)
        let marker = makeMarker()
        // Not routed, but an Anthropic API path: the SDK calling it expects Anthropic's errors.
        let notFound = try gateway.exchange(.json("/v1/complete?m=\(marker)", #"{"prompt":"x"}"#))
        #expect(notFound.status == .notFound)
        Shapes.expectAnthropicShape(notFound, type: "not_found_error")
        // Routed to the anthropic provider, too large.
        let tooLarge = try gateway.exchange(
            TestRequest(path: "/v1/messages?m=\(marker)", headers: [("Content-Type", "application/json")], body: .declaredOnly(65 * 1024))
        )
        #expect(tooLarge.status == .payloadTooLarge)
        Shapes.expectAnthropicShape(tooLarge, type: "request_too_large")
        // An upstream timeout on an Anthropic-shaped provider (first_byte_seconds 1; the vendor never answers).
        let caller = try gateway.connectCaller()
        try gateway.send(.json("/slow-anthropic/v1/messages?m=\(marker)", #"{"model":"claude"}"#), on: caller)
        try #require(try gateway.vendor.requests(containing: marker).count == 1)
        gateway.loop.advanceTime(by: .seconds(1))
        let timeout = try gateway.response(on: caller)
        #expect(timeout.status == .gatewayTimeout)
        Shapes.expectAnthropicShape(timeout, type: "overloaded_error")
    }

    @Test("A body over max_body_bytes is refused with 413 before anything is forwarded")
    func bodyTooLarge() async throws {
        var options = EmbeddedGateway.Options.socketHarness
        options.maxBodyBytes = 64 * 1024
        let gateway = try await EmbeddedGateway(options: options)
        let marker = makeMarker()
        // Declared too large: refused on the head alone, the body is never read.
        let declared = try gateway.exchange(
            TestRequest(
                path: "/v1/chat/completions?m=\(marker)", headers: [("Content-Type", "application/json")],
                body: .declaredOnly(64 * 1024 + 1)
            )
        )
        #expect(declared.status == .payloadTooLarge)
        Shapes.expectOpenAIShape(declared, type: "invalid_request_error", code: "payload_too_large")
        #expect(declared.headers.first(name: "connection")?.lowercased() == "close")
        // Chunked, no length given: refused once the held body passes the limit.
        let filler = [UInt8](repeating: UInt8(ascii: "a"), count: 64 * 1024 + 1)
        let chunked = try gateway.exchange(
            TestRequest(
                path: "/v1/chat/completions?m=\(marker)", headers: [("Content-Type", "application/json")],
                body: .chunked([Array(#"{"model":"gpt-4o","x":""#.utf8), filler], finish: false)
            )
        )
        #expect(chunked.status == .payloadTooLarge)
        Shapes.expectOpenAIShape(chunked, type: "invalid_request_error", code: "payload_too_large")
        // Exactly at the limit is allowed.
        let prefix = #"{"model":"gpt-4o","x":""#
        let suffix = "\"}"
        let fill = String(repeating: "b", count: 64 * 1024 - prefix.utf8.count - suffix.utf8.count)
        let atLimit = try gateway.exchange(.json("/v1/chat/completions?m=\(marker)", prefix + fill + suffix))
        #expect(atLimit.status == .ok)
        #expect(try gateway.vendor.requests(containing: marker).count == 1, "only the request within the limit is forwarded")
    }

    @Test("A request head over max_header_bytes is refused with 431")
    func headersTooLarge() async throws {
        var options = EmbeddedGateway.Options.socketHarness
        options.maxHeaderBytes = 8 * 1024
        let gateway = try await EmbeddedGateway(options: options)
        let marker = makeMarker()
        let big = String(repeating: "h", count: 12 * 1024)
        let response = try gateway.exchange(
            .json("/v1/chat/completions?m=\(marker)", #"{"model":"gpt-4o"}"#, headers: [("X-Big", big)])
        )
        #expect(response.status == .requestHeaderFieldsTooLarge)
        Shapes.expectOpenAIShape(response, type: "invalid_request_error", code: "headers_too_large")
        // Many small headers adding up over the limit.
        let many = (0..<400).map { ("X-Many-\($0)", "value-\($0)-\(marker)") }
        let total = try gateway.exchange(.json("/v1/chat/completions?m=\(marker)", #"{"model":"gpt-4o"}"#, headers: many))
        #expect(total.status == .requestHeaderFieldsTooLarge)
        // Under the limit passes.
        let fine = try gateway.exchange(
            .json("/v1/chat/completions?m=\(marker)", #"{"model":"gpt-4o"}"#, headers: [("X-Big", String(big.prefix(4 * 1024)))])
        )
        #expect(fine.status == .ok)
        #expect(try gateway.vendor.requests(containing: marker).count == 1)
    }

    @Test("An upstream that does not answer within first_byte_seconds gives 504; the request is not retried")
    func upstreamFirstByteTimeout() async throws {
        let gateway = try await EmbeddedGateway(options: .socketHarness)
        let marker = makeMarker()
        try gateway.send(.json("/slow/v1/chat/completions?m=\(marker)", #"{"model":"gpt-4o"}"#))
        try #require(try gateway.vendor.requests(containing: marker).count == 1)
        // `slow` has first_byte_seconds 1: nothing before the second is up, the 504 when it is (over sockets:
        // answered after 0.9 to 5 s).
        gateway.loop.advanceTime(by: .milliseconds(999))
        #expect(try gateway.callerReceived().isEmpty, "answered before first_byte_seconds")
        gateway.loop.advanceTime(by: .milliseconds(1))
        let response = try gateway.response()
        #expect(response.status == .gatewayTimeout)
        Shapes.expectOpenAIShape(response, type: "api_error", code: "upstream_timeout")
        // Long after: still the one request on the one connection.
        gateway.loop.advanceTime(by: .seconds(30))
        #expect(gateway.vendor.connections.count == 1, "the request was retried on another connection")
        let received = try gateway.vendor.requests(containing: marker)
        #expect(received.count == 1, "the vendor saw the request \(received.count) times")
        #expect(received.first?.uri == "/hang/slow/v1/chat/completions?m=\(marker)")
    }
}
