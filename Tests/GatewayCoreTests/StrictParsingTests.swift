import Foundation
import Testing

/// Requests that could smuggle a second request past a proxy. Each must be refused with 400 before anything
/// is forwarded. If the HTTP parser ever accepts one of them, these tests fail.
///
/// In memory (`EmbeddedGateway` with the socket harness's configuration, its HTTP decoder set up as
/// `GatewayServer` sets it): the caller's bytes arrive as one read, and every step runs before the test looks, so
/// "nothing was forwarded" needs no waiting and "the connection was closed" is the channel's state.
@Suite("Strict HTTP/1.1 parsing (EmbeddedGateway)", .timeLimit(.minutes(1)))
struct StrictParsingTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        /// The request; `MARKER` is replaced by the test's marker and `KEY` by the caller's gateway key.
        let raw: String
        /// The refusal's status.
        var status = 400
        var testDescription: String { self.name }
    }

    static let body = #"{"model":"gpt-4o","messages":[]}"#

    static let cases: [Case] = [
        Case(
            name: "Content-Length with Transfer-Encoding",
            raw: "POST /v1/chat/completions?m=MARKER HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\n"
                + "Content-Length: \(body.utf8.count)\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "\(String(body.utf8.count, radix: 16))\r\n\(body)\r\n0\r\n\r\n"
        ),
        Case(
            name: "Transfer-Encoding with Content-Length (reverse order)",
            raw: "POST /v1/chat/completions?m=MARKER HTTP/1.1\r\nHost: gateway\r\nTransfer-Encoding: chunked\r\n"
                + "Content-Length: \(body.utf8.count)\r\n\r\n"
                + "\(String(body.utf8.count, radix: 16))\r\n\(body)\r\n0\r\n\r\n"
        ),
        Case(
            name: "two conflicting Content-Length",
            raw: "POST /v1/chat/completions?m=MARKER HTTP/1.1\r\nHost: gateway\r\nContent-Length: \(body.utf8.count)\r\n"
                + "Content-Length: 5\r\n\r\n\(body)"
        ),
        Case(
            name: "conflicting Content-Length in one field",
            raw: "POST /v1/chat/completions?m=MARKER HTTP/1.1\r\nHost: gateway\r\n"
                + "Content-Length: \(body.utf8.count), 5\r\n\r\n\(body)"
        ),
        Case(
            name: "obs-fold header line",
            raw: "POST /v1/chat/completions?m=MARKER HTTP/1.1\r\nHost: gateway\r\nX-Folded: first\r\n second\r\n"
                + "Content-Length: \(body.utf8.count)\r\n\r\n\(body)"
        ),
        Case(
            name: "bare CR inside a header value",
            raw: "POST /v1/chat/completions?m=MARKER HTTP/1.1\r\nHost: gateway\r\nX-Bare: a\rb\r\n"
                + "Content-Length: \(body.utf8.count)\r\n\r\n\(body)"
        ),
        Case(
            name: "bare CR as a line ending",
            raw: "POST /v1/chat/completions?m=MARKER HTTP/1.1\r\nHost: gateway\rX-Bare: a\r\n"
                + "Content-Length: \(body.utf8.count)\r\n\r\n\(body)"
        ),
        Case(
            name: "invalid header name (space)",
            raw: "POST /v1/chat/completions?m=MARKER HTTP/1.1\r\nHost: gateway\r\nX Bad: value\r\n"
                + "Content-Length: \(body.utf8.count)\r\n\r\n\(body)"
        ),
        Case(
            name: "invalid header name (space before colon)",
            raw: "POST /v1/chat/completions?m=MARKER HTTP/1.1\r\nHost: gateway\r\nContent-Length : \(body.utf8.count)\r\n\r\n\(body)"
        ),
        Case(
            name: "invalid header name (separator character)",
            raw: "POST /v1/chat/completions?m=MARKER HTTP/1.1\r\nHost: gateway\r\nX-Bad{name}: value\r\n"
                + "Content-Length: \(body.utf8.count)\r\n\r\n\(body)"
        ),
        Case(
            name: "unknown Transfer-Encoding",
            raw: "POST /v1/chat/completions?m=MARKER HTTP/1.1\r\nHost: gateway\r\nTransfer-Encoding: chunked, identity\r\n\r\n"
                + "\(String(body.utf8.count, radix: 16))\r\n\(body)\r\n0\r\n\r\n"
        ),
    ] + issue12Cases

    /// Issue 12, defects 4, 6 and 7: heads the HTTP decoder accepts but nginx refuses, targets that a vendor
    /// would normalise onto another path, and gateway keys outside the credential fields.
    static let issue12Cases: [Case] = {
        func chunked(_ framing: String, version: String = "1.1") -> String {
            "POST /v1/chat/completions?m=MARKER HTTP/\(version)\r\nHost: gateway\r\nContent-Type: application/json\r\n"
                + framing + "\r\n\r\n\(String(body.utf8.count, radix: 16))\r\n\(body)\r\n0\r\n\r\n"
        }
        func target(_ target: String, extra: String = "") -> String {
            "POST \(target) HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\n\(extra)"
                + "Content-Length: \(body.utf8.count)\r\n\r\n\(body)"
        }
        func withHosts(_ hosts: String) -> String {
            "POST /v1/chat/completions?m=MARKER HTTP/1.1\r\n\(hosts)Content-Type: application/json\r\n"
                + "Content-Length: \(body.utf8.count)\r\n\r\n\(body)"
        }
        return [
            Case(name: "Transfer-Encoding: identity, chunked", raw: chunked("Transfer-Encoding: identity, chunked"), status: 501),
            Case(name: "Transfer-Encoding: gzip, chunked", raw: chunked("Transfer-Encoding: gzip, chunked"), status: 501),
            Case(
                name: "Transfer-Encoding split over two fields", raw: chunked("Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked"),
                status: 501
            ),
            Case(name: "Transfer-Encoding in HTTP/1.0", raw: chunked("Transfer-Encoding: chunked", version: "1.0")),
            Case(name: "no Host", raw: withHosts("")),
            Case(name: "two Host fields", raw: withHosts("Host: gateway\r\nHost: other\r\n")),
            Case(name: "a Host that is no host name", raw: withHosts("Host: a b\r\n")),
            Case(
                name: "Content-Encoding twice",
                raw: target("/v1/chat/completions?m=MARKER", extra: "Content-Encoding: identity\r\nContent-Encoding: gzip\r\n")
            ),
            Case(name: "Content-Type twice", raw: target("/v1/chat/completions?m=MARKER", extra: "Content-Type: text/plain\r\n")),
            Case(
                name: "Expect other than 100-continue", raw: target("/v1/chat/completions?m=MARKER", extra: "Expect: 200-ok\r\n"),
                status: 417
            ),
            Case(name: "dot segments", raw: target("/v1/chat/completions/../../admin?m=MARKER")),
            Case(name: "percent-encoded dot segments", raw: target("/v1/chat/completions/%2e%2e/%2E%2E/admin?m=MARKER")),
            Case(name: "encoded slash", raw: target("/v1/chat/completions/..%2fadmin?m=MARKER")),
            Case(name: "encoded backslash", raw: target("/v1/chat/completions%5C..%5Cadmin?m=MARKER")),
            Case(name: "dot segments into another provider", raw: target("/v1/messages/../../v1/files?m=MARKER")),
            Case(name: "single dot segment", raw: target("/v1/./chat/completions?m=MARKER")),
            Case(name: "a quote in the target", raw: target("/v1/chat/completions?m=MARKER&q=\"x\"")),
            Case(name: "absolute-form target", raw: target("https://api.openai.com/v1/chat/completions?m=MARKER")),
            Case(name: "gateway key in the query string", raw: target("/v1/chat/completions?m=MARKER&api_key=KEY")),
            Case(
                name: "gateway key percent-encoded in the query string",
                raw: target("/v1/chat/completions?m=MARKER&k=%67wk%5F\(String(repeating: "a", count: 10))")
            ),
            Case(name: "gateway key in another header", raw: target("/v1/chat/completions?m=MARKER", extra: "X-Debug-Key: KEY\r\n")),
        ]
    }()

    /// Adds a valid gateway key right after the request line, so that only the framing could stop the request.
    static func authenticated(_ raw: String, key: String) -> String {
        guard let lineEnd = raw.range(of: "\r\n") else { return raw }
        return raw.replacingCharacters(in: lineEnd, with: "\r\nAuthorization: Bearer \(key)\r\n")
    }

    /// What the caller got so far, as the socket tests' raw client reports it: `timedOut` when the gateway has
    /// not closed the connection.
    static func rawResponse(_ gateway: EmbeddedGateway) throws -> RawResponse {
        RawResponse(bytes: Array(try gateway.callerReceived().utf8), timedOut: gateway.caller.isActive)
    }

    /// The vendor answers every request the gateway sent it, as `FakeVendor` does, each once it has arrived.
    static func vendorAnswersAll(_ gateway: EmbeddedGateway) throws {
        var answered = 0
        while answered < gateway.vendor.connections.count {
            try gateway.vendor.answersAsFakeVendor(on: answered)
            answered += 1
        }
    }

    @Test("Malformed request → 400, connection closed, nothing forwarded", arguments: cases)
    func refused(_ testCase: Case) async throws {
        let gateway = try await EmbeddedGateway(options: .socketHarness)
        let marker = makeMarker()
        let request = testCase.raw.replacingOccurrences(of: "MARKER", with: marker)
            .replacingOccurrences(of: "KEY", with: gateway.gatewayKey)
        let raw = Self.authenticated(request, key: gateway.gatewayKey)
        try gateway.callerSends(raw)
        let response = try Self.rawResponse(gateway)
        #expect(!response.timedOut, "the gateway kept the connection open: \(response.text)")
        #expect(response.status == testCase.status, "answered: \(response.text.prefix(300))")
        #expect(response.responseCount == 1, "more than one response: \(response.text)")
        #expect(response.header("x-request-id") != nil)
        #expect(response.header("connection")?.lowercased() == "close")
        #expect(response.body.contains(#""error""#), "not an error body: \(response.body)")
        #expect(try gateway.vendor.requests(containing: marker).isEmpty, "the vendor received the request")
        #expect(try gateway.vendor.requests.isEmpty)
        // The answer names no gateway key either (a refusal must not echo it).
        #expect(!response.text.contains(gateway.gatewayKey))
    }

    @Test("Pipelined requests in one write are each served, in order, and forwarded once each")
    func pipelinedRequestsAreServedInOrder() async throws {
        let gateway = try await EmbeddedGateway(options: .socketHarness)
        let marker = makeMarker()
        let requests = (1...3).map { n in
            let close = n == 3 ? "Connection: close\r\n" : ""
            let raw = "POST /v1/chat/completions?m=\(marker)&n=\(n) HTTP/1.1\r\nHost: gateway\r\n"
                + "Content-Type: application/json\r\n\(close)Content-Length: \(Self.body.utf8.count)\r\n\r\n\(Self.body)"
            return Self.authenticated(raw, key: gateway.gatewayKey)
        }
        try gateway.callerSends(requests.joined())
        try Self.vendorAnswersAll(gateway)
        let response = try Self.rawResponse(gateway)
        #expect(!response.timedOut, "the gateway kept the connection open: \(response.text.prefix(300))")
        // Responses follow each other directly (a JSON body has no trailing newline), so count status lines.
        let statusLines = response.text.components(separatedBy: "HTTP/1.1 200 OK\r\n").count - 1
        #expect(statusLines == 3, "answered: \(response.text.prefix(600))")
        let ids = response.text.components(separatedBy: "\r\n").filter { $0.lowercased().hasPrefix("x-request-id:") }
        #expect(Set(ids).count == 3, "each response carries its own request id: \(ids)")
        let received = try gateway.vendor.requests(containing: marker).map(\.uri)
        #expect(received.count == 3)
        #expect(received.map { $0.suffix(3) } == ["n=1", "n=2", "n=3"], "forwarded out of order: \(received)")
    }

    @Test("The raw client itself works: a well-formed request is forwarded")
    func wellFormedRawRequest() async throws {
        let gateway = try await EmbeddedGateway(options: .socketHarness)
        let marker = makeMarker()
        let raw = "POST /v1/chat/completions?m=\(marker) HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\n"
            + "Connection: close\r\nContent-Length: \(Self.body.utf8.count)\r\n\r\n\(Self.body)"
        try gateway.callerSends(Self.authenticated(raw, key: gateway.gatewayKey))
        try Self.vendorAnswersAll(gateway)
        let response = try Self.rawResponse(gateway)
        #expect(!response.timedOut)
        #expect(response.status == 200, "answered: \(response.text.prefix(300))")
        #expect(try gateway.vendor.requests(containing: marker).count == 1)
    }
}
