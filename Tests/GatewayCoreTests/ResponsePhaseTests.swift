import NIOCore
import NIOHTTP1
import Testing
@testable import GatewayCore

/// Phases 5 and 6 as later features use them (restoring pseudonyms, response-side rules): a filter with its own
/// per-request state that holds the answer back and releases it rewritten.
@Suite("Response phases: a filter holds back and rewrites the answer")
struct ResponsePhaseTests {
    /// Keeps every part of the answer in its own state and releases the whole answer, upper-cased, at its end.
    struct HoldAndShout: GatewayFilter {
        struct State: Sendable {
            var held = ByteBuffer()
            var partsSeen = 0
        }

        func makeState() -> State { State() }

        func responseHead(_ head: inout HTTPResponseHead, context: inout RequestContext, state: inout State) {
            head.headers.remove(name: "content-length")  // the length changes: sent chunked
        }

        func responseBody(
            _ part: inout ByteBuffer?, endOfStream: Bool, context: inout RequestContext, state: inout State
        ) {
            if var bytes = part {
                state.held.writeBuffer(&bytes)
                state.partsSeen += 1
            }
            part = nil
            if endOfStream {
                part = ByteBuffer(string: String(buffer: state.held).uppercased() + " (\(state.partsSeen) parts)")
            }
        }
    }

    @Test("Nothing of the answer leaves until the end; then the rewritten whole goes out, chunked")
    func holdsThenReleases() async throws {
        let gateway = try await EmbeddedGateway(extraFilters: [HoldAndShout()])
        try gateway.callerSends(
            EmbeddedGateway.post("/v1/chat/completions", EmbeddedPipelineTests.chat, key: gateway.gatewayKey)
        )
        try gateway.vendor.answers(
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\nhello"
        )
        let early = try gateway.callerReceived()
        #expect(early.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(early.contains("transfer-encoding: chunked"))
        #expect(!early.lowercased().contains("content-length"))
        #expect(!early.contains("hello") && !early.contains("HELLO"), "a held part went out: \(early)")

        try gateway.vendor.answers(" world")
        let rest = try gateway.callerReceived()
        #expect(rest.contains("HELLO WORLD (2 parts)"))
        #expect(rest.hasSuffix("0\r\n\r\n"))
        #expect(gateway.caller.isActive)
    }

    @Test("Each request gets a fresh state: a second request on the connection does not see the first's bytes")
    func statePerRequest() async throws {
        let gateway = try await EmbeddedGateway(extraFilters: [HoldAndShout()])
        for (index, word) in ["first", "second"].enumerated() {
            try gateway.callerSends(
                EmbeddedGateway.post("/v1/chat/completions", EmbeddedPipelineTests.chat, key: gateway.gatewayKey)
            )
            try gateway.vendor.answers(EmbeddedVendor.json(word), on: index)
            let answer = try gateway.callerReceived()
            #expect(answer.contains("\(word.uppercased()) (1 parts)"), "\(answer)")
        }
    }
}
