import Foundation
import GatewayAudit
import NIOCore
import Testing
@testable import GatewayCore

/// Token usage read from the vendor's answers, in each API's shape, streamed and not.
@Suite("Token usage from answers")
struct UsageMeterTests {
    static func usage(_ text: String) -> TokenUsage? { UsageMeter.usage(in: Array(text.utf8)) }

    @Test("OpenAI chat completion and Responses API answers")
    func openAI() {
        #expect(Self.usage(#"{"id":"c","choices":[],"usage":{"prompt_tokens":120,"completion_tokens":7,"total_tokens":127,"prompt_tokens_details":{"cached_tokens":64}}}"#)
                == TokenUsage(prompt: 120, completion: 7, cached: 64))
        #expect(Self.usage(#"{"object":"response","usage":{"input_tokens":30,"output_tokens":9,"input_tokens_details":{"cached_tokens":0}}}"#)
                == TokenUsage(prompt: 30, completion: 9, cached: 0))
    }

    @Test("An OpenAI stream's last chunk carries the usage")
    func openAIStream() {
        let stream = "data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}],\"usage\":null}\n\n"
            + "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":11,\"completion_tokens\":2}}\n\ndata: [DONE]\n\n"
        #expect(Self.usage(stream) == TokenUsage(prompt: 11, completion: 2))
    }

    @Test("Anthropic messages: the JSON answer, and a stream's message_start and message_delta merged")
    func anthropic() {
        // Anthropic's input_tokens leave out cache reads and writes; prompt counts them, as OpenAI's does.
        #expect(Self.usage(#"{"type":"message","usage":{"input_tokens":50,"cache_read_input_tokens":40,"output_tokens":12}}"#)
                == TokenUsage(prompt: 90, completion: 12, cached: 40))
        #expect(Self.usage(#"{"type":"message","usage":{"input_tokens":10,"cache_creation_input_tokens":300,"cache_read_input_tokens":0,"output_tokens":5}}"#)
                == TokenUsage(prompt: 310, completion: 5, cached: 0))
        let stream = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":25,\"output_tokens\":1}}}\n\n"
            + "event: message_delta\ndata: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":15}}\n\n"
        #expect(Self.usage(stream) == TokenUsage(prompt: 25, completion: 15))
    }

    @Test("An answer without usage, or with a usage string in its text, gives none")
    func none() {
        #expect(Self.usage(#"{"choices":[{"message":{"content":"the \"usage\" of words"}}]}"#) == nil)
        #expect(Self.usage("") == nil)
    }

    @Test("The filter keeps a bounded head and tail: usage at the end of a long answer is found, the answer unchanged")
    func filterOnALongAnswer() {
        let meter = UsageMeter()
        var state = meter.makeState()
        var context = RequestContext(requestID: "r", method: "POST", target: "/", clientAddress: nil, tls: nil)
        let filler = String(repeating: "x", count: 100_000)
        for text in [#"{"choices":[{"message":{"content":""#, filler, #""}}],"usage":{"prompt_tokens":3,"completion_tokens":4}}"#] {
            var part: ByteBuffer? = ByteBuffer(string: text)
            meter.responseBody(&part, endOfStream: false, context: &context, state: &state)
            #expect(part.map { String(buffer: $0) } == text, "parts pass unchanged")
        }
        #expect(state.head.count <= UsageMeter.headBytes && state.tail.count <= 2 * UsageMeter.tailBytes)
        var end: ByteBuffer? = nil
        meter.responseBody(&end, endOfStream: true, context: &context, state: &state)
        #expect(context.usage == TokenUsage(prompt: 3, completion: 4))
    }
}

extension GatewayIntegration {
    @Suite("Token usage in outcome lines")
    struct UsageRecords {
        @Test("The outcome line of a forwarded request carries the vendor's usage, JSON and streamed")
        func outcomeCarriesUsage() async throws {
            try await GatewayHarness.run { gateway in
                let body = #"{"model":"gpt-4o","messages":[{"role":"user","content":"hello"}]}"#
                let plain = try await gateway.client.send(.json("/v1/chat/completions", body))
                let streamed = try await gateway.client.send(.json(
                    "/v1/messages", #"{"model":"claude","max_tokens":5,"stream":true,"messages":[{"role":"user","content":"hi"}]}"#))
                #expect(plain.status == .ok && streamed.status == .ok)
                let location = AuditLocation(directory: gateway.directory.appendingPathComponent("var/audit").path)
                // Outcomes are written with the next batch of records, or by themselves within 10 ms.
                try await Task.sleep(for: .milliseconds(200))
                let views = AuditReader.views(location: location)
                let plainUsage = views.first { $0.record.requestID == plain.requestID }?.outcome?.usage
                #expect(plainUsage == TokenUsage(prompt: body.utf8.count, completion: 5), "the fake vendor counts body bytes")
                let streamedUsage = views.first { $0.record.requestID == streamed.requestID }?.outcome?.usage
                #expect(streamedUsage == TokenUsage(prompt: 10, completion: 5))
            }
        }
    }
}
