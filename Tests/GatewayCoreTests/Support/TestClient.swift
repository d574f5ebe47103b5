import Foundation
import GatewayTLS
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// What a test client got back.
struct TestResponse: Sendable {
    let status: HTTPResponseStatus
    let headers: HTTPHeaders
    let body: [UInt8]
    /// When each body part arrived, with its size.
    let bodyParts: [(arrived: ContinuousClock.Instant, bytes: Int)]

    var text: String { String(decoding: self.body, as: UTF8.self) }
    var requestID: String? { self.headers.first(name: "x-request-id") }

    /// The body as a JSON object (nil when it is not one).
    var json: [String: Any]? { (try? JSONSerialization.jsonObject(with: Data(self.body))) as? [String: Any] }
    /// `error` of an OpenAI-shaped error body.
    var openAIError: [String: Any]? { self.json?["error"] as? [String: Any] }
    /// `error` of an Anthropic-shaped error body (`{"type":"error","error":{...}}`).
    var anthropicError: [String: Any]? {
        guard let json = self.json, json["type"] as? String == "error" else { return nil }
        return json["error"] as? [String: Any]
    }
}

/// A request the test client sends.
struct TestRequest: Sendable {
    enum Body: Sendable {
        /// `Content-Length` and the bytes.
        case complete([UInt8])
        /// `Transfer-Encoding: chunked`: these chunks, then (when `finish`) the last chunk.
        case chunked([[UInt8]], finish: Bool)
        /// Only a head declaring `Content-Length: n`; no body is sent.
        case declaredOnly(Int)
        case none
    }

    var method: HTTPMethod = .POST
    var path: String
    var headers: HTTPHeaders = HTTPHeaders()
    var body: Body = .none
    /// How the caller presents its gateway key (the gateway must never forward it).
    enum Credential: Sendable {
        /// `Authorization: Bearer <gateway key>`, as the OpenAI SDKs send it.
        case bearer
        /// `x-api-key: <gateway key>`, as the Anthropic SDKs send it.
        case xAPIKey
        /// Nothing added: the request's own headers say it all.
        case none
    }
    var credential: Credential

    init(method: HTTPMethod = .POST, path: String, headers: [(String, String)] = [], body: Body = .none) {
        self.method = method
        self.path = path
        self.headers = HTTPHeaders(headers)
        self.body = body
        self.credential = path.hasPrefix("/v1/messages") ? .xAPIKey : .bearer
    }

    /// A JSON POST.
    static func json(_ path: String, _ json: String, headers: [(String, String)] = []) -> TestRequest {
        TestRequest(
            path: path, headers: [("Content-Type", "application/json")] + headers, body: .complete(Array(json.utf8))
        )
    }
}

struct ClientTimedOut: Error, CustomStringConvertible {
    var description: String { "the test client got no complete response in time" }
}

struct ConnectionClosedEarly: Error, CustomStringConvertible {
    let partial: String
    var description: String { "the gateway closed the connection before a complete response (got: \(self.partial))" }
}

/// HTTP/1.1 over our TLS client handler, trusting only the listener's test CA.
struct TestClient: Sendable {
    let port: Int
    let tls: TLSContext
    let group: any EventLoopGroup
    /// A valid gateway key.
    let gatewayKey: String

    /// Like most TLS clients (Go, Python, OpenSSL's one-way shutdown), the test client sends close_notify and closes
    /// the socket without waiting for the peer's: a caller that leaves is gone at once.
    static func tlsHandler(_ tls: TLSContext) throws -> TLSHandler {
        try TLSHandler(clientContext: tls, serverHostname: "127.0.0.1", shutdownTimeout: .zero)
    }

    /// Sends one request on a new connection and reads the whole response (at most `timeout`).
    /// - Parameter onFirstBodyPart: called once, when the first body part arrives.
    func send(
        _ request: TestRequest, timeout: TimeAmount = .seconds(15),
        onFirstBodyPart: (@Sendable () -> Void)? = nil
    ) async throws -> TestResponse {
        let tls = self.tls
        let channel = try await ClientBootstrap(group: self.group)
            .connectTimeout(.seconds(5))
            .connect(host: "127.0.0.1", port: self.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(try Self.tlsHandler(tls))
                    try sync.addHTTPClientHandlers()
                    return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(
                        wrappingChannelSynchronously: channel
                    )
                }
            }
        let timedOut = Atomic<Bool>(false)
        let deadline = channel.channel.eventLoop.scheduleTask(in: timeout) {
            timedOut.store(true, ordering: .releasing)
            channel.channel.close(promise: nil)
        }
        defer { deadline.cancel() }

        var head = HTTPRequestHead(version: .http1_1, method: request.method, uri: request.path, headers: request.headers)
        head.headers.replaceOrAdd(name: "Host", value: "127.0.0.1:\(self.port)")
        switch request.credential {
        case .bearer: head.headers.add(name: "Authorization", value: "Bearer \(self.gatewayKey)")
        case .xAPIKey: head.headers.add(name: "x-api-key", value: self.gatewayKey)
        case .none: break
        }
        switch request.body {
        case .complete(let bytes): head.headers.replaceOrAdd(name: "Content-Length", value: String(bytes.count))
        case .chunked: head.headers.replaceOrAdd(name: "Transfer-Encoding", value: "chunked")
        case .declaredOnly(let length): head.headers.replaceOrAdd(name: "Content-Length", value: String(length))
        case .none: break
        }
        var status: HTTPResponseStatus?
        var headers = HTTPHeaders()
        var body: [UInt8] = []
        var parts: [(arrived: ContinuousClock.Instant, bytes: Int)] = []
        var complete = false
        do {
            try await channel.executeThenClose { inbound, outbound in
                try await outbound.write(.head(head))
                switch request.body {
                case .complete(let bytes):
                    if !bytes.isEmpty { try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: bytes)))) }
                    try await outbound.write(.end(nil))
                case .chunked(let chunks, let finish):
                    for chunk in chunks { try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: chunk)))) }
                    if finish { try await outbound.write(.end(nil)) }
                case .declaredOnly:
                    break
                case .none:
                    try await outbound.write(.end(nil))
                }
                for try await part in inbound {
                    switch part {
                    case .head(let responseHead):
                        if responseHead.status == .continue { continue }
                        status = responseHead.status
                        headers = responseHead.headers
                    case .body(let chunk):
                        if parts.isEmpty { onFirstBodyPart?() }
                        parts.append((ContinuousClock.now, chunk.readableBytes))
                        body.append(contentsOf: chunk.readableBytesView)
                    case .end:
                        complete = true
                        return
                    }
                }
            }
        } catch {
            if timedOut.load(ordering: .acquiring) { throw ClientTimedOut() }
            if !complete {
                // A response may be complete only by connection close; otherwise report what came.
                throw ConnectionClosedEarly(partial: "status \(status.map { "\($0.code)" } ?? "none"), \(body.count) body bytes; \(error)")
            }
        }
        if timedOut.load(ordering: .acquiring) { throw ClientTimedOut() }
        guard complete, let status else {
            throw ConnectionClosedEarly(partial: "status \(status.map { "\($0.code)" } ?? "none"), \(body.count) body bytes")
        }
        return TestResponse(status: status, headers: headers, body: body, bodyParts: parts)
    }

    /// Writes `bytes` as they are (for requests NIO's encoder would refuse to produce) and collects everything the
    /// gateway answers until it closes the connection or `timeout` passes.
    func sendRaw(_ bytes: [UInt8], timeout: TimeAmount = .seconds(10)) async throws -> RawResponse {
        let connection = try await self.openRawConnection()
        let (channel, collector) = (connection.channel, connection.collector)
        let timedOut = Atomic<Bool>(false)
        let deadline = channel.eventLoop.scheduleTask(in: timeout) {
            timedOut.store(true, ordering: .releasing)
            channel.close(promise: nil)
        }
        defer { deadline.cancel() }
        try await channel.writeAndFlush(ByteBuffer(bytes: bytes))
        try? await channel.closeFuture.get()
        return RawResponse(bytes: collector.bytes, timedOut: timedOut.load(ordering: .acquiring))
    }

    /// A TLS connection that sends nothing (an idle keep-alive connection); the caller closes it.
    func openIdleConnection() async throws -> any Channel {
        let tls = self.tls
        return try await ClientBootstrap(group: self.group)
            .connectTimeout(.seconds(5))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(try Self.tlsHandler(tls))
                }
            }
            .connect(host: "127.0.0.1", port: self.port).get()
    }

    /// A connection the test writes to piece by piece (`tls: false`: plain TCP that never starts TLS), collecting
    /// what the gateway sends until it closes.
    func openRawConnection(tls: Bool = true) async throws -> RawConnection {
        let context = self.tls
        let collector = RawCollector()
        let channel = try await ClientBootstrap(group: self.group)
            .connectTimeout(.seconds(5))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    if tls { try sync.addHandler(try Self.tlsHandler(context)) }
                    try sync.addHandler(RawCollectorHandler(collector: collector))
                }
            }
            .connect(host: "127.0.0.1", port: self.port).get()
        return RawConnection(channel: channel, collector: collector, opened: .now)
    }

    /// Whether a TCP connection to the listener is accepted at all.
    func canConnect() async -> Bool {
        do {
            let channel = try await ClientBootstrap(group: self.group)
                .connectTimeout(.seconds(2))
                .connect(host: "127.0.0.1", port: self.port).get()
            try? await channel.close()
            return true
        } catch {
            return false
        }
    }
}

/// A connection opened by `openRawConnection`.
struct RawConnection: Sendable {
    let channel: any Channel
    fileprivate let collector: RawCollector
    let opened: ContinuousClock.Instant

    func write(_ text: String) async throws { try await self.channel.writeAndFlush(ByteBuffer(string: text)) }

    /// How long after opening the gateway closed it, or nil when it was still open after `limit`.
    func closedAfter(within limit: Duration) async -> Duration? {
        let closed = Atomic<Bool>(false)
        let watch = Task {
            try? await self.channel.closeFuture.get()
            closed.store(true, ordering: .releasing)
        }
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline, !closed.load(ordering: .acquiring) {
            try? await Task.sleep(for: .milliseconds(20))
        }
        watch.cancel()
        guard closed.load(ordering: .acquiring) else { return nil }
        return ContinuousClock.now - self.opened
    }

    var received: RawResponse { RawResponse(bytes: self.collector.bytes, timedOut: false) }

    func close() async { try? await self.channel.close() }
}

/// Everything a raw request got back, parsed just enough for assertions.
struct RawResponse: Sendable {
    let bytes: [UInt8]
    /// The gateway had not closed the connection when the client gave up.
    let timedOut: Bool

    var text: String { String(decoding: self.bytes, as: UTF8.self) }
    /// The status code of the first response, from `HTTP/1.1 NNN ...`.
    var status: Int? {
        let parts = self.text.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1.") else { return nil }
        return Int(parts[1])
    }
    /// The number of responses in the stream (a smuggled request would give two).
    var responseCount: Int {
        let expression = try! NSRegularExpression(pattern: "(^|\n)HTTP/1\\.[01] [0-9]{3} ")
        return expression.numberOfMatches(in: self.text, range: NSRange(self.text.startIndex..., in: self.text))
    }
    func header(_ name: String) -> String? {
        let head = self.text.components(separatedBy: "\r\n\r\n").first ?? ""
        for line in head.split(separator: "\r\n").dropFirst() {
            let pieces = line.split(separator: ":", maxSplits: 1)
            if pieces.count == 2, pieces[0].lowercased() == name.lowercased() {
                return pieces[1].trimmingCharacters(in: .whitespaces)
            }
        }
        return nil
    }
    var body: String { self.text.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n") }
}

private final class RawCollector: Sendable {
    private let received = Mutex<[UInt8]>([])
    var bytes: [UInt8] { self.received.withLock { $0 } }
    func append(_ buffer: ByteBuffer) { self.received.withLock { $0.append(contentsOf: buffer.readableBytesView) } }
}

private final class RawCollectorHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let collector: RawCollector
    init(collector: RawCollector) { self.collector = collector }
    func channelRead(context: ChannelHandlerContext, data: NIOAny) { self.collector.append(self.unwrapInboundIn(data)) }
    func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }
}
