import NIOCore
import NIOHTTP1
import Testing
@testable import GatewayCore

/// The caller's pipeline with the real phases and filters, in memory (`EmbeddedGateway`): what reaches the vendor,
/// what the caller gets, in which order.
@Suite("Request pipeline in memory (EmbeddedChannel)")
struct EmbeddedPipelineTests {
    static let chat = #"{"model":"gpt-4o","messages":[{"role":"user","content":"Say hello."}]}"#

    @Test("A clean request reaches the vendor with the vendor's key, and its answer the caller")
    func cleanRequestForwarded() async throws {
        let gateway = try await EmbeddedGateway()
        try gateway.callerSends(EmbeddedGateway.post("/v1/chat/completions", Self.chat, key: gateway.gatewayKey))
        let sent = try gateway.vendor.received()
        #expect(sent.hasPrefix("POST /v1/chat/completions HTTP/1.1\r\n"))
        #expect(sent.contains("Authorization: \(VendorKeys.openAI)"))
        #expect(!sent.contains(gateway.gatewayKey), "the gateway key reached the vendor")
        #expect(sent.hasSuffix(Self.chat), "the clean body is forwarded byte for byte")
        #expect(try gateway.callerReceived().isEmpty, "nothing is answered before the vendor answers")

        try gateway.vendor.answers(EmbeddedVendor.json(#"{"id":"chatcmpl-1"}"#))
        let answer = try gateway.callerReceived()
        #expect(answer.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(answer.contains("x-request-id: req_"))
        #expect(answer.hasSuffix(#"{"id":"chatcmpl-1"}"#))
        #expect(gateway.caller.isActive, "the connection is kept alive")
    }

    @Test("A secret is refused in the vendor's error shape and no vendor connection is even taken")
    func secretBlocked() async throws {
        let gateway = try await EmbeddedGateway()
        let body = #"{"model":"gpt-4o","messages":[{"role":"user","content":"key AKIAL2YY5HLGNUZLUMHX"}]}"#
        try gateway.callerSends(EmbeddedGateway.post("/v1/chat/completions", body, key: gateway.gatewayKey))
        let answer = try gateway.callerReceived()
        #expect(answer.hasPrefix("HTTP/1.1 403 Forbidden\r\n"))
        #expect(answer.contains("x-gateway-error: blockedByPolicy"))
        #expect(answer.contains(#""error":{"#), "OpenAI's error shape")
        #expect(!answer.contains("AKIAL2YY5HLGNUZLUMHX"))
        #expect(gateway.vendor.connections.isEmpty)
    }

    @Test("An e-mail address is redacted in what the vendor is sent, with a matching length")
    func emailRedacted() async throws {
        let gateway = try await EmbeddedGateway()
        let body = #"{"model":"gpt-4o","messages":[{"role":"user","content":"Write to jane.doe@acme-widgets.co.uk"}]}"#
        try gateway.callerSends(EmbeddedGateway.post("/v1/chat/completions", body, key: gateway.gatewayKey))
        let sent = try gateway.vendor.received()
        #expect(!sent.contains("jane.doe"))
        #expect(sent.contains("[EMAIL"))
        let forwardedBody = try #require(sent.split(separator: "\r\n\r\n", maxSplits: 1).last)
        #expect(sent.contains("Content-Length: \(forwardedBody.utf8.count)\r\n"))
    }

    @Test("Refusals before the body: no key (401, the connection closes), an unknown path (404)")
    func refusalsBeforeTheBody() async throws {
        let gateway = try await EmbeddedGateway()
        try gateway.callerSends(EmbeddedGateway.post("/v1/chat/completions", Self.chat, key: nil))
        let answer = try gateway.callerReceived()
        #expect(answer.hasPrefix("HTTP/1.1 401 Unauthorized\r\n"))
        #expect(!gateway.caller.isActive, "refused before its body was read: the connection closes")

        let other = try await EmbeddedGateway()
        try other.callerSends(EmbeddedGateway.post("/v1/unknown", Self.chat, key: other.gatewayKey))
        #expect(try other.callerReceived().hasPrefix("HTTP/1.1 404 Not Found\r\n"))
        #expect(other.vendor.connections.isEmpty)
    }

    @Test("A streamed answer reaches the caller event by event, before the vendor has finished")
    func streamedAnswerRelayedAsItArrives() async throws {
        let gateway = try await EmbeddedGateway()
        try gateway.callerSends(EmbeddedGateway.post("/v1/chat/completions", Self.chat, key: gateway.gatewayKey))
        _ = try gateway.vendor.received()
        try gateway.vendor.answers(
            "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "f\r\ndata: {\"n\":1}\n\n\r\n"
        )
        gateway.caller.flush()
        let first = try gateway.callerReceived()
        #expect(first.contains("data: {\"n\":1}"))
        #expect(!first.hasSuffix("0\r\n\r\n"), "the stream is still open")
        try gateway.vendor.answers("f\r\ndata: {\"n\":2}\n\n\r\n0\r\n\r\n")
        let rest = try gateway.callerReceived()
        #expect(rest.contains("data: {\"n\":2}"))
        #expect(rest.hasSuffix("0\r\n\r\n"))
    }

    @Test("Pipelined requests are served one after the other: the second reaches the vendor after the first's answer")
    func pipelinedInOrder() async throws {
        let gateway = try await EmbeddedGateway()
        let one = EmbeddedGateway.post("/v1/chat/completions?n=1", Self.chat, key: gateway.gatewayKey)
        let two = EmbeddedGateway.post("/v1/chat/completions?n=2", Self.chat, key: gateway.gatewayKey)
        try gateway.callerSends(one + two)
        #expect(gateway.vendor.connections.count == 1)
        #expect(try gateway.vendor.received(on: 0).contains("?n=1"))
        try gateway.vendor.answers(EmbeddedVendor.json(#"{"n":1}"#), on: 0)
        #expect(gateway.vendor.connections.count == 2, "the second request starts once the first has ended")
        #expect(try gateway.vendor.received(on: 1).contains("?n=2"))
        try gateway.vendor.answers(EmbeddedVendor.json(#"{"n":2}"#), on: 1)
        let answers = try gateway.callerReceived()
        let first = try #require(answers.range(of: #"{"n":1}"#))
        let second = try #require(answers.range(of: #"{"n":2}"#))
        #expect(first.lowerBound < second.lowerBound)
    }

    @Test("A caller that leaves mid-answer closes the vendor's connection (its work is cancelled)")
    func callerLeavesMidAnswer() async throws {
        let gateway = try await EmbeddedGateway()
        try gateway.callerSends(EmbeddedGateway.post("/v1/chat/completions", Self.chat, key: gateway.gatewayKey))
        try gateway.vendor.answers(
            "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"
        )
        #expect(gateway.vendor.connections[0].isActive)
        try await gateway.caller.close()
        gateway.loop.run()
        #expect(!gateway.vendor.connections[0].isActive)
    }

    @Test("A vendor that closes before answering gives the caller 502 in the vendor's error shape")
    func vendorClosesBeforeAnswering() async throws {
        let gateway = try await EmbeddedGateway()
        try gateway.callerSends(
            EmbeddedGateway.post("/v1/messages", #"{"model":"claude","max_tokens":5,"messages":[]}"#,
                                 key: gateway.gatewayKey)
        )
        try await gateway.vendor.connections[0].close()
        gateway.loop.run()
        let answer = try gateway.callerReceived()
        #expect(answer.hasPrefix("HTTP/1.1 502 Bad Gateway\r\n"))
        #expect(answer.contains(#""type":"error""#), "Anthropic's error shape")
    }
}
