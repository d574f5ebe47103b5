import Foundation
import GatewayConfig
import NIOCore
import NIOEmbedded
import NIOHTTP1
@testable import GatewayCore

/// The whole caller-side pipeline (HTTP decoder and encoder, `ProxyHandler`, the real phases and filters) on an
/// `EmbeddedChannel`, with the vendor played by the test on `EmbeddedChannel`s of its own: no sockets, no TLS, no
/// threads. Records are off (the decision log writes on its own thread); `AuditTests` cover them over sockets.
///
/// The test writes the caller's bytes, runs the loop, reads what the vendor was sent, answers as the vendor, and
/// reads what the caller got. Time stands still unless the test moves it (`loop.advanceTime(by:)`), which fires the
/// gateway's timers (the upstream first-byte deadline, say).
final class EmbeddedGateway {
    /// What the gateway is configured with.
    struct Options {
        enum Providers {
            /// `openai` (/v1/chat/completions, /v1/models) and `anthropic` (/v1/messages), each with its API shape's
            /// default `forward_headers`.
            case openAIAndAnthropic
            /// The providers `GatewayHarness` configures, with the same paths, base paths, `forward_headers` lists and
            /// timeouts (`openai` forwards `x-fake-*` and `x-kept` too; `slow` and `slow-anthropic` under `/hang`
            /// with a first-byte timeout of 1 s; `idle` under `/idle`; `refused`, `wronghost`, `silent`). The vendor
            /// is the embedded one for every provider: what a provider's address would do over sockets does not
            /// happen here.
            case socketHarness
        }

        var maxBodyBytes = 1 << 20
        /// `limits.max_header_bytes`: the HTTP decoder's limits, as `GatewayServer` sets them.
        var maxHeaderBytes = LimitSettings.defaultMaxHeaderBytes
        var providers = Providers.openAIAndAnthropic

        /// The configuration `GatewayHarness.run` starts with (its default `Options`).
        static var socketHarness: Options {
            Options(maxBodyBytes: 6 * 1024 * 1024, maxHeaderBytes: 8 * 1024, providers: .socketHarness)
        }
    }

    let loop: EmbeddedEventLoop
    let caller: EmbeddedChannel
    let vendor: EmbeddedVendor
    let runtime: GatewayRuntime
    /// A gateway key of role `engineer`.
    let gatewayKey: String
    private let directory: URL
    private let settings: ProxySettings
    private let decoderLimits: NIOHTTPDecoderLimitConfiguration

    /// - Parameter extraFilters: filters after the built-in ones (the response-phase tests add their own).
    convenience init(extraFilters: [any GatewayFilter] = [], maxBodyBytes: Int = 1 << 20) async throws {
        try await self.init(options: Options(maxBodyBytes: maxBodyBytes), extraFilters: extraFilters)
    }

    init(options: Options, extraFilters: [any GatewayFilter] = []) async throws {
        let (directory, key) = try GatewayHarness.prepareDirectory(
            name: "gateway-embedded", user: "embedded-test", pki: try CoreTestPKI.shared()
        )
        self.directory = directory
        self.gatewayKey = key.text
        let yaml = """
            listen:
              address: 127.0.0.1
              port: 0
              tls: {certificate: listener.pem, key: listener.key, session_tickets: false}
            providers:
            \(Self.providers(options.providers))
            limits:
              max_body_bytes: \(options.maxBodyBytes)
              max_header_bytes: \(options.maxHeaderBytes)
            \(options.providers == .socketHarness ? "  inspection_deadline_ms: 20000" : "")
            rules: {directory: \(repositoryRoot.appendingPathComponent("rules").path)}
            policy: {file: \(repositoryRoot.appendingPathComponent("policy.yaml").path)}
            keys: {file: var/keys.json}
            audit: {enabled: false, directory: var/audit}
            """
        try yaml.write(to: directory.appendingPathComponent("gateway.yaml"), atomically: true, encoding: .utf8)
        let configuration = try ConfigLoader.load(
            contents: yaml, path: directory.appendingPathComponent("gateway.yaml").path, environment: [:]
        )
        self.runtime = try await GatewayRuntime.build(configuration: configuration, extraFilters: extraFilters)
        // Made after the last suspension, so the loop and the channels belong to the thread that goes on to use them.
        self.loop = EmbeddedEventLoop()
        self.vendor = EmbeddedVendor(loop: self.loop)
        var upstreams: [String: any UpstreamSource] = [:]
        for provider in configuration.providers { upstreams[provider.name] = self.vendor }
        self.settings = ProxySettings(
            live: self.runtime.live, upstreams: upstreams,
            maxBodyBytes: options.maxBodyBytes, registry: ConnectionRegistry(), metrics: self.runtime.metrics,
            offLoopInspectionBytes: .max, inspectionPool: nil, bodyBudget: BodyBudget(limit: 1 << 30)
        )
        var limits = NIOHTTPDecoderLimitConfiguration()
        limits.maxHeaderListSize = configuration.limits.maxHeaderBytes
        limits.maxHeaderFieldSize = configuration.limits.maxHeaderBytes
        self.decoderLimits = limits
        self.caller = try Self.connectedCaller(loop: self.loop, settings: self.settings, limits: limits)
    }

    deinit { try? FileManager.default.removeItem(at: self.directory) }

    /// A caller's connection with the handlers `GatewayServer` puts behind TLS and the connection timeouts.
    private static func connectedCaller(
        loop: EmbeddedEventLoop, settings: ProxySettings, limits: NIOHTTPDecoderLimitConfiguration
    ) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel(loop: loop)
        let sync = channel.pipeline.syncOperations
        try sync.addHandler(HTTPResponseEncoder())
        try sync.addHandler(
            ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes, limitConfiguration: limits))
        )
        try sync.addHandler(ProxyHandler(settings: settings))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 8443)).wait()
        return channel
    }

    private static func providers(_ providers: Options.Providers) -> String {
        let vendor = "https://127.0.0.1:9"
        switch providers {
        case .openAIAndAnthropic:
            return """
                  - name: openai
                    base_url: \(vendor)
                    paths: [/v1/chat/completions, /v1/models]
                    credential: {header: Authorization, value: "\(VendorKeys.openAI)"}
                    ca_file: vendor-ca.pem
                  - name: anthropic
                    base_url: \(vendor)
                    paths: [/v1/messages]
                    credential: {header: x-api-key, value: "\(VendorKeys.anthropic)"}
                    ca_file: vendor-ca.pem
                """
        case .socketHarness:
            // GatewayHarness's list, in its order, with the embedded vendor behind every address.
            return HarnessProviders.yaml(
                .init(vendor: vendor, wrongHost: "https://127.0.0.1:11", refused: "https://127.0.0.1:10",
                      silent: "https://127.0.0.1:12"))
        }
    }

    // MARK: - The caller

    /// Another connection from a caller to the same gateway (the socket tests' client opens one per request).
    func connectCaller() throws -> EmbeddedChannel {
        try Self.connectedCaller(loop: self.loop, settings: self.settings, limits: self.decoderLimits)
    }

    /// The caller sends `raw` bytes (on `connection`, by default the first caller's); the loop then runs what they
    /// started.
    func callerSends(_ raw: String, on connection: EmbeddedChannel? = nil) throws {
        try (connection ?? self.caller).writeInbound(ByteBuffer(string: raw))
        self.loop.run()
    }

    /// The caller sends `request` as `TestClient.send` would put it on the wire, with the gateway key.
    func send(_ request: TestRequest, on connection: EmbeddedChannel? = nil) throws {
        try self.callerSends(Self.raw(request, key: self.gatewayKey), on: connection)
    }

    /// What `TestClient.send` does over sockets: `request` on a new caller connection, the vendor answering as
    /// `FakeVendor` does on every connection the gateway took for it, and the one complete response the caller got.
    func exchange(_ request: TestRequest) throws -> TestResponse {
        let connection = try self.connectCaller()
        let before = self.vendor.connections.count
        try self.send(request, on: connection)
        for index in before..<self.vendor.connections.count { try self.vendor.answersAsFakeVendor(on: index) }
        return try self.response(on: connection)
    }

    /// A JSON POST with the gateway key, as an SDK sends it.
    static func post(_ path: String, _ json: String, key: String?, extraHeaders: String = "") -> String {
        let authorization = key.map { "Authorization: Bearer \($0)\r\n" } ?? ""
        return "POST \(path) HTTP/1.1\r\nHost: gw\r\n\(authorization)Content-Type: application/json\r\n"
            + "Content-Length: \(json.utf8.count)\r\n\(extraHeaders)\r\n\(json)"
    }

    /// `request` in the bytes `TestClient.send` writes: its headers, then `Host`, the gateway key as its credential
    /// says, and the body's framing; then the body (a `.declaredOnly` body is never sent, a `.chunked` one ends with
    /// the last chunk only when `finish`).
    static func raw(_ request: TestRequest, key: String) -> String {
        var headers = request.headers
        headers.replaceOrAdd(name: "Host", value: "127.0.0.1:8443")
        switch request.credential {
        case .bearer: headers.add(name: "Authorization", value: "Bearer \(key)")
        case .xAPIKey: headers.add(name: "x-api-key", value: key)
        case .none: break
        }
        switch request.body {
        case .complete(let bytes): headers.replaceOrAdd(name: "Content-Length", value: String(bytes.count))
        case .chunked: headers.replaceOrAdd(name: "Transfer-Encoding", value: "chunked")
        case .declaredOnly(let length): headers.replaceOrAdd(name: "Content-Length", value: String(length))
        case .none: break
        }
        var text = "\(request.method.rawValue) \(request.path) HTTP/1.1\r\n"
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        text += "\r\n"
        switch request.body {
        case .complete(let bytes):
            text += String(decoding: bytes, as: UTF8.self)
        case .chunked(let chunks, let finish):
            for chunk in chunks where !chunk.isEmpty {
                text += String(chunk.count, radix: 16) + "\r\n" + String(decoding: chunk, as: UTF8.self) + "\r\n"
            }
            if finish { text += "0\r\n\r\n" }
        case .declaredOnly, .none:
            break
        }
        return text
    }

    /// Everything written to the caller (on `connection`, by default the first caller's) since the last call.
    func callerReceived(on connection: EmbeddedChannel? = nil) throws -> String {
        self.loop.run()
        let channel = connection ?? self.caller
        var text = ""
        while let chunk = try channel.readOutbound(as: ByteBuffer.self) { text += String(buffer: chunk) }
        return text
    }

    /// The one complete response written to the caller since the last read, parsed; throws when there is none, when
    /// it is incomplete, or when more follow it.
    func response(on connection: EmbeddedChannel? = nil) throws -> TestResponse {
        let responses = try Self.responses(in: try self.callerReceived(on: connection))
        guard responses.count == 1 else { throw ResponseError(problem: "\(responses.count) responses, not one") }
        return responses[0]
    }

    struct ResponseError: Error, CustomStringConvertible {
        let problem: String
        var description: String { "the caller's bytes are not as expected: \(self.problem)" }
    }

    /// The complete HTTP/1.1 responses in `raw`, in order (interim 1xx ones left out). A response without a length
    /// or chunked framing runs to the end of `raw` (it ends with the connection). Throws when the last is cut short.
    static func responses(in raw: String) throws -> [TestResponse] {
        var bytes = Array(raw.utf8)[...]
        var responses: [TestResponse] = []
        while !bytes.isEmpty {
            guard let headEnd = Self.find([13, 10, 13, 10], in: bytes) else {
                throw ResponseError(problem: "a head without its end: \(String(decoding: bytes, as: UTF8.self).prefix(300))")
            }
            let headText = String(decoding: bytes[bytes.startIndex..<headEnd], as: UTF8.self)
            bytes = bytes[(headEnd + 4)...]
            var lines = headText.components(separatedBy: "\r\n")
            let statusLine = lines.removeFirst().split(separator: " ", maxSplits: 2)
            guard statusLine.count >= 2, statusLine[0].hasPrefix("HTTP/1."), let code = Int(statusLine[1]) else {
                throw ResponseError(problem: "not a status line: \(headText.prefix(100))")
            }
            var headers = HTTPHeaders()
            for line in lines {
                guard let colon = line.firstIndex(of: ":") else { throw ResponseError(problem: "header line \(line)") }
                headers.add(
                    name: String(line[..<colon]), value: line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                )
            }
            let status = HTTPResponseStatus(statusCode: code)
            if (100..<200).contains(code) { continue }
            var body: [UInt8] = []
            var parts: [(arrived: ContinuousClock.Instant, bytes: Int)] = []
            if headers["transfer-encoding"].contains(where: { $0.lowercased().contains("chunked") }) {
                while true {
                    guard let lineEnd = Self.find([13, 10], in: bytes) else { throw ResponseError(problem: "a chunked body cut short") }
                    let sizeText = String(decoding: bytes[bytes.startIndex..<lineEnd], as: UTF8.self)
                    guard let size = Int(sizeText.split(separator: ";").first ?? "", radix: 16) else {
                        throw ResponseError(problem: "chunk size \(sizeText)")
                    }
                    bytes = bytes[(lineEnd + 2)...]
                    if size == 0 {
                        // Trailers, if any, up to the empty line.
                        guard let end = Self.find([13, 10], in: bytes) else { throw ResponseError(problem: "no end after the last chunk") }
                        if end == bytes.startIndex {
                            bytes = bytes[(end + 2)...]
                        } else {
                            guard let trailersEnd = Self.find([13, 10, 13, 10], in: bytes) else {
                                throw ResponseError(problem: "trailers cut short")
                            }
                            bytes = bytes[(trailersEnd + 4)...]
                        }
                        break
                    }
                    guard bytes.count >= size + 2 else { throw ResponseError(problem: "a chunk cut short") }
                    body += bytes.prefix(size)
                    parts.append((.now, size))
                    bytes = bytes.dropFirst(size + 2)
                }
            } else if let length = headers.first(name: "content-length").flatMap(Int.init) {
                guard bytes.count >= length else {
                    throw ResponseError(problem: "\(bytes.count) of \(length) body bytes")
                }
                body = Array(bytes.prefix(length))
                if length > 0 { parts.append((.now, length)) }
                bytes = bytes.dropFirst(length)
            } else if code != 204 && code != 304 {
                body = Array(bytes)
                if !body.isEmpty { parts.append((.now, body.count)) }
                bytes = bytes[bytes.endIndex...]
            }
            responses.append(TestResponse(status: status, headers: headers, body: body, bodyParts: parts))
        }
        return responses
    }

    /// Where `needle` first starts in `haystack`.
    private static func find(_ needle: [UInt8], in haystack: ArraySlice<UInt8>) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        var index = haystack.startIndex
        while index <= haystack.endIndex - needle.count {
            if haystack[index..<(index + needle.count)].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }
}

/// The vendor's side: each connection the gateway takes is an `EmbeddedChannel` ending in the gateway's own
/// `UpstreamClientHandler`, on the caller's loop. The test reads the requests it was sent and writes its answers.
final class EmbeddedVendor: UpstreamSource, @unchecked Sendable {
    let loop: EmbeddedEventLoop
    /// Every connection handed out, in order.
    private(set) var connections: [EmbeddedChannel] = []
    /// Connections given back unused.
    private(set) var returned = 0
    /// Everything the gateway wrote on each connection, and how much of it `received(on:)` has returned.
    private var transcripts: [[UInt8]] = []
    private var returnedUpTo: [Int] = []

    init(loop: EmbeddedEventLoop) { self.loop = loop }

    func acquire(on loop: any EventLoop, _ deliver: @escaping UpstreamPool.Waiter) {
        let channel = EmbeddedChannel(loop: self.loop)
        do {
            let handler = UpstreamClientHandler(providerName: "embedded-vendor", idleTimeout: .seconds(600))
            try channel.pipeline.syncOperations.addHTTPClientHandlers()
            try channel.pipeline.syncOperations.addHandler(handler)
            try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 443)).wait()
            self.connections.append(channel)
            self.transcripts.append([])
            self.returnedUpTo.append(0)
            deliver(.connection(UpstreamConnection(channel: channel, handler: handler)))
        } catch {
            deliver(.failed(GatewayError(.upstreamUnavailable, "embedded vendor: \(error)")))
        }
    }

    func finished(_ connection: UpstreamConnection, reusable: Bool) { self.returned += 1 }

    /// Runs the loop and moves what the gateway has written since into the transcripts.
    private func collect() throws {
        self.loop.run()
        for index in self.connections.indices {
            while let chunk = try self.connections[index].readOutbound(as: ByteBuffer.self) {
                self.transcripts[index] += chunk.readableBytesView
            }
        }
    }

    /// The bytes the gateway wrote on connection `index` since the last call.
    func received(on index: Int = 0) throws -> String {
        try self.collect()
        guard index < self.connections.count else { return "" }
        let new = self.transcripts[index][self.returnedUpTo[index]...]
        self.returnedUpTo[index] = self.transcripts[index].count
        return String(decoding: new, as: UTF8.self)
    }

    /// Every complete request the gateway sent, parsed, connection by connection (as `FakeVendor` records them:
    /// `connectionID` is the connection's index here).
    var requests: [RecordedRequest] {
        get throws {
            try self.collect()
            var requests: [RecordedRequest] = []
            for (connection, transcript) in self.transcripts.enumerated() where !transcript.isEmpty {
                let parser = EmbeddedChannel()
                try parser.pipeline.syncOperations.addHandler(ByteToMessageHandler(HTTPRequestDecoder()))
                try parser.writeInbound(ByteBuffer(bytes: transcript))
                var head: HTTPRequestHead?
                var body: [UInt8] = []
                while let part = try parser.readInbound(as: HTTPServerRequestPart.self) {
                    switch part {
                    case .head(let started):
                        head = started
                        body = []
                    case .body(let chunk):
                        body += chunk.readableBytesView
                    case .end:
                        guard let head else { continue }
                        requests.append(
                            RecordedRequest(
                                index: requests.count, connectionID: connection, method: head.method, uri: head.uri,
                                headers: head.headers, body: body
                            )
                        )
                    }
                }
                _ = try? parser.finish()
            }
            return requests
        }
    }

    func requests(containing marker: String) throws -> [RecordedRequest] {
        try self.requests.filter { $0.contains(marker) }
    }

    /// The vendor writes `raw` response bytes on connection `index`.
    func answers(_ raw: String, on index: Int = 0) throws {
        try self.connections[index].writeInbound(ByteBuffer(string: raw))
        self.loop.run()
    }

    /// Answers the last request on connection `index` as `FakeVendor` does, at once (a stream's events in one write):
    /// by path, `stream` and `model` of the body, `x-fake-events` for the number of events; nothing for a path under
    /// `/hang`.
    func answersAsFakeVendor(on index: Int = 0) throws {
        guard let request = try self.requests.last(where: { $0.connectionID == index }) else {
            throw EmbeddedGateway.ResponseError(problem: "no request on vendor connection \(index) to answer")
        }
        let path = String(request.uri.split(separator: "?", maxSplits: 1).first ?? "")
        if path.hasPrefix("/hang") { return }
        let json = (try? JSONSerialization.jsonObject(with: Data(request.body))) as? [String: Any]
        let stream = json?["stream"] as? Bool ?? false
        let model = json?["model"] as? String ?? "unknown"
        let events = request.headers.first(name: "x-fake-events").flatMap(Int.init) ?? FakeVendor.defaultEvents
        let keepAlive = request.headers.first(name: "connection")?.lowercased() != "close"
        let answer: String
        if path.hasSuffix("/v1/chat/completions") {
            answer = stream
                ? Self.stream(FakeAPI.openAIStream(model: model, events: events), keepAlive: keepAlive)
                : Self.fakeJSON(FakeAPI.openAICompletion(model: model, receivedBytes: request.body.count), keepAlive: keepAlive)
        } else if path.hasSuffix("/v1/messages") {
            answer = stream
                ? Self.stream(FakeAPI.anthropicStream(model: model, events: events), keepAlive: keepAlive)
                : Self.fakeJSON(FakeAPI.anthropicMessage(model: model, receivedBytes: request.body.count), keepAlive: keepAlive)
        } else {
            answer = Self.fakeJSON(
                #"{"error":{"message":"fake vendor: no such path","type":"invalid_request_error"}}"#,
                status: "404 Not Found", keepAlive: keepAlive
            )
        }
        try self.answers(answer, on: index)
    }

    /// A complete JSON answer.
    static func json(_ body: String) -> String {
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
    }

    /// The header lines every `FakeVendor` answer carries, hop-by-hop ones the gateway must not pass on included.
    static func fakeVendorHeaders(contentType: String, keepAlive: Bool = true) -> String {
        "Content-Type: \(contentType)\r\nx-request-id: vendor-request-id\r\nx-vendor-trace: kept\r\n"
            + "X-Vendor-Hop: must-not-reach-the-caller\r\nKeep-Alive: timeout=30\r\n"
            + "Connection: \(keepAlive ? "keep-alive" : "close"), X-Vendor-Hop\r\n"
    }

    /// A complete JSON answer with `FakeVendor`'s headers.
    static func fakeJSON(_ body: String, status: String = "200 OK", keepAlive: Bool = true) -> String {
        "HTTP/1.1 \(status)\r\n" + Self.fakeVendorHeaders(contentType: "application/json", keepAlive: keepAlive)
            + "Content-Length: \(body.utf8.count)\r\n\r\n\(body)"
    }

    /// The head of `FakeVendor`'s event stream (chunked); its events follow as `chunk(_:)`s, then `lastChunk`.
    static func streamHead(keepAlive: Bool = true) -> String {
        "HTTP/1.1 200 OK\r\n" + Self.fakeVendorHeaders(contentType: "text/event-stream; charset=utf-8", keepAlive: keepAlive)
            + "Cache-Control: no-cache\r\ntransfer-encoding: chunked\r\n\r\n"
    }

    /// One chunk of a chunked body.
    static func chunk(_ text: String) -> String { String(text.utf8.count, radix: 16) + "\r\n" + text + "\r\n" }

    static let lastChunk = "0\r\n\r\n"

    /// A whole event stream: head, one chunk per event, the last chunk.
    static func stream(_ events: [String], keepAlive: Bool = true) -> String {
        Self.streamHead(keepAlive: keepAlive) + events.map(Self.chunk).joined() + Self.lastChunk
    }
}
