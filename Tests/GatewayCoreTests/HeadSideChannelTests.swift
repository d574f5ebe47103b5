import Foundation
import NIOHTTP1
import Testing

/// Issue 12, defect 5: what reaches the vendor besides the body. Only the provider's allow-listed header fields
/// are forwarded, and they and the query string are scanned like the body; a secret there blocks (a header
/// cannot be redacted).
///
/// In memory (`EmbeddedGateway` with the socket harness's configuration and its `forward_headers` lists): every step
/// runs to completion before the test looks, so "nothing was forwarded" needs no waiting.
@Suite("The head as a side channel (EmbeddedGateway)", .timeLimit(.minutes(1)))
struct HeadSideChannelTests {
    static let body = #"{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}"#
    /// A GitHub token the rules block (a fake: its checksum part is made up).
    static let token = "github_pat_11ABCDEFG0123456789abc_" + String(repeating: "x7Q", count: 20) + "abcdefghi"

    @Test("Fields off the allow-list and names with '_' are dropped and counted; allowed ones arrive")
    func allowListDropsTheRest() async throws {
        let gateway = try await EmbeddedGateway(options: .socketHarness)
        let marker = makeMarker()
        let response = try gateway.exchange(
            .json(
                "/v1/chat/completions?m=\(marker)", Self.body,
                headers: [
                    ("X-Note", "internal ticket 4711"), ("X-Debug", "verbose"), ("Transfer_Encoding", "chunked"),
                    ("X_Kept", "underscore"), ("OpenAI-Beta", "assistants=v2"), ("X-Stainless-Lang", "python"),
                    ("User-Agent", "OpenAI/Python 1.0"),
                ]
            )
        )
        #expect(response.status == .ok)
        let received = try #require(try gateway.vendor.requests(containing: marker).first)
        for name in ["x-note", "x-debug", "transfer_encoding", "x_kept", "transfer-encoding"] {
            #expect(received.headers[name].isEmpty, "\(name) reached the vendor")
        }
        #expect(received.headers["openai-beta"] == ["assistants=v2"])
        #expect(received.headers["x-stainless-lang"] == ["python"])
        #expect(received.headers["user-agent"] == ["OpenAI/Python 1.0"])
        // What the admin listener's /metrics serves.
        let metrics = gateway.runtime.metrics.render()
        #expect(metrics.contains(#"gateway_headers_dropped_total{provider="openai"} 4"#), "\(metrics)")
    }

    @Test("A secret in a forwarded header or in the query string blocks the request; nothing is forwarded")
    func secretsInTheHeadBlock() async throws {
        let gateway = try await EmbeddedGateway(options: .socketHarness)
        for (place, request) in [
            ("user-agent", TestRequest.json("/v1/chat/completions?m=MARK", Self.body, headers: [("User-Agent", Self.token)])),
            ("openai-*", TestRequest.json("/v1/chat/completions?m=MARK", Self.body, headers: [("OpenAI-Note", Self.token)])),
            ("query", TestRequest.json("/v1/chat/completions?m=MARK&note=\(Self.token)", Self.body)),
            ("path", TestRequest.json("/v1/chat/completions/\(Self.token)?m=MARK", Self.body)),
            ("a name under x-stainless-*", TestRequest.json("/v1/chat/completions?m=MARK", Self.body, headers: [("x-stainless-AKIAL2YY5HLGNUZLUMHX", "1")])),
        ] {
            let marker = makeMarker()
            var request = request
            request.path = request.path.replacingOccurrences(of: "MARK", with: marker)
            let response = try gateway.exchange(request)
            #expect(response.status == .forbidden, "\(place): \(response.status)")
            #expect(response.text.contains("cannot be redacted"), "\(place): \(response.text)")
            #expect(!response.text.contains(Self.token))
            #expect(try gateway.vendor.requests(containing: marker).isEmpty, "\(place): forwarded")
        }
        // A field the allow-list drops is not forwarded, so it needs no scan and blocks nothing.
        let marker = makeMarker()
        let dropped = try gateway.exchange(
            .json("/v1/chat/completions?m=\(marker)", Self.body, headers: [("X-Note", Self.token)])
        )
        #expect(dropped.status == .ok)
        let received = try #require(try gateway.vendor.requests(containing: marker).first)
        #expect(received.headers["x-note"].isEmpty)
    }

    @Test("A field skipped once the request was certain to be blocked is not taken for clean afterwards")
    func skippedFieldsAreNotRememberedAsClean() async throws {
        let gateway = try await EmbeddedGateway(options: .socketHarness)
        // 70 look-alike secrets settle the first request's block before its last field is scanned.
        let many = (0..<70).map { String(format: "AKIA%016d", $0).replacingOccurrences(of: "0", with: "Q") }
        let secret = "AKIAL2YY5HLGNUZLUMHX"
        let first = try gateway.exchange(
            .json("/v1/chat/completions", Self.body,
                  headers: [("x-stainless-a", many.joined(separator: " ")), ("x-stainless-b", secret)])
        )
        #expect(first.status == .forbidden)
        let marker = makeMarker()
        let second = try gateway.exchange(
            .json("/v1/chat/completions?m=\(marker)", Self.body, headers: [("x-stainless-b", secret)])
        )
        #expect(second.status == .forbidden, "the secret was forwarded: \(second.status)")
        #expect(try gateway.vendor.requests(containing: marker).isEmpty)
    }
}
