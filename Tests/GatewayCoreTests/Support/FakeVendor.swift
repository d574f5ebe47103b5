import Foundation
import GatewayTLS
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// One request as the fake vendor received it.
struct RecordedRequest: Sendable {
    let index: Int
    let connectionID: Int
    let method: HTTPMethod
    let uri: String
    let headers: HTTPHeaders
    let body: [UInt8]

    var bodyText: String { String(decoding: self.body, as: UTF8.self) }
    /// Whether `marker` appears in the target, a header value or the body: tests tag their requests with one.
    func contains(_ marker: String) -> Bool {
        self.uri.contains(marker) || self.headers.contains { $0.value.contains(marker) } || self.bodyText.contains(marker)
    }
}

/// A fake OpenAI/Anthropic API over TLS (NIO ServerBootstrap + our `TLSHandler` + HTTP/1.1), recording every request.
///
/// Answers by path:
/// - `/v1/chat/completions`: an OpenAI chat completion, or with `"stream": true` an SSE stream of chunks ending in
///   `data: [DONE]`;
/// - `/v1/messages`: an Anthropic message, or with `"stream": true` the `message_start … message_stop` events;
/// - any path under `/hang`: never answers (first-byte timeouts);
/// - the two API paths also under a prefix (e.g. `/idle/v1/chat/completions`);
/// - anything else: 404.
///
/// Request headers steer streams: `x-fake-events` (content events, default 4), `x-fake-delay-ms` (between events,
/// default 100), `x-fake-behavior: break` (the connection is closed after the second event).
final class FakeVendor: Sendable {
    static let defaultEvents = 4
    static let defaultDelayMilliseconds = 100

    struct StreamTiming: Sendable {
        var firstEventSent: ContinuousClock.Instant?
        var lastEventSent: ContinuousClock.Instant?
    }

    private struct State {
        var requests: [RecordedRequest] = []
        var streams: [Int: StreamTiming] = [:]
        var connections: [Int: any Channel] = [:]
        var closedConnections: Set<Int> = []
        var acceptedConnections = 0
        var requestsInFlight = 0
        var mostRequestsInFlight = 0
        var completedHandshakes = 0
    }

    private let serverChannel = Mutex<(any Channel)?>(nil)
    private let state = Mutex(State())

    private init() {}

    /// The bound port (after `start`).
    var port: Int { self.serverChannel.withLock { $0?.localAddress?.port ?? 0 } }

    /// Binds on 127.0.0.1 and an ephemeral port.
    static func start(certificate: IssuedCertificate, pki: CoreTestPKI, group: any EventLoopGroup) async throws -> FakeVendor {
        let context = try pki.serverContext(certificate)
        let vendor = FakeVendor()
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let id = vendor.connectionOpened(channel)
                    channel.closeFuture.whenComplete { _ in vendor.connectionClosed(id) }
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(try TLSHandler(serverContext: context))
                    try sync.addHandler(HandshakeCounter(vendor: vendor))
                    try sync.configureHTTPServerPipeline(withErrorHandling: true)
                    try sync.addHandler(VendorHandler(vendor: vendor, connectionID: id))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        vendor.serverChannel.withLock { $0 = channel }
        return vendor
    }

    /// A TCP listener that accepts connections and never says a word (no TLS): handshake timeouts.
    static func startSilent(group: any EventLoopGroup) async throws -> FakeVendor {
        let vendor = FakeVendor()
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                let id = vendor.connectionOpened(channel)
                channel.closeFuture.whenComplete { _ in vendor.connectionClosed(id) }
                return channel.eventLoop.makeSucceededVoidFuture()
            }
            .bind(host: "127.0.0.1", port: 0).get()
        vendor.serverChannel.withLock { $0 = channel }
        return vendor
    }

    /// Closes the listener and every connection.
    func stop() async {
        try? await self.serverChannel.withLock({ $0 })?.close()
        let open = self.state.withLock { Array($0.connections.values) }
        for channel in open { try? await channel.close() }
    }

    // MARK: What the tests inspect

    var requests: [RecordedRequest] { self.state.withLock { $0.requests } }
    func requests(containing marker: String) -> [RecordedRequest] { self.requests.filter { $0.contains(marker) } }
    var acceptedConnections: Int { self.state.withLock { $0.acceptedConnections } }
    /// The most requests the vendor was working on at the same time (from a request's head until its response's
    /// end was written). A pool bounds this exactly, where counting open sockets would lag behind closes.
    var mostRequestsInFlight: Int { self.state.withLock { $0.mostRequestsInFlight } }
    var completedHandshakes: Int { self.state.withLock { $0.completedHandshakes } }
    func streamTiming(ofRequest index: Int) -> StreamTiming? { self.state.withLock { $0.streams[index] } }
    func isConnectionClosed(_ id: Int) -> Bool { self.state.withLock { $0.closedConnections.contains(id) } }

    // MARK: Recording (event loop side)

    private func connectionOpened(_ channel: any Channel) -> Int {
        self.state.withLock { state in
            state.acceptedConnections += 1
            let id = state.acceptedConnections
            state.connections[id] = channel
            return id
        }
    }

    fileprivate func connectionClosed(_ id: Int) {
        self.state.withLock { state in
            state.connections[id] = nil
            state.closedConnections.insert(id)
        }
    }

    fileprivate func requestStarted() {
        self.state.withLock { state in
            state.requestsInFlight += 1
            state.mostRequestsInFlight = max(state.mostRequestsInFlight, state.requestsInFlight)
        }
    }

    fileprivate func requestFinished() { self.state.withLock { $0.requestsInFlight -= 1 } }

    fileprivate func handshakeCompleted() { self.state.withLock { $0.completedHandshakes += 1 } }

    fileprivate func record(connectionID: Int, head: HTTPRequestHead, body: [UInt8]) -> Int {
        self.state.withLock { state in
            let index = state.requests.count
            state.requests.append(
                RecordedRequest(
                    index: index, connectionID: connectionID, method: head.method, uri: head.uri, headers: head.headers,
                    body: body
                )
            )
            return index
        }
    }

    fileprivate func eventSent(request index: Int, last: Bool) {
        self.state.withLock { state in
            var timing = state.streams[index] ?? StreamTiming()
            let now = ContinuousClock.now
            if timing.firstEventSent == nil { timing.firstEventSent = now }
            if last { timing.lastEventSent = now }
            state.streams[index] = timing
        }
    }
}

/// Counts completed TLS handshakes: a vendor whose certificate the gateway refuses must never complete one.
private final class HandshakeCounter: ChannelInboundHandler {
    typealias InboundIn = NIOAny
    let vendor: FakeVendor
    init(vendor: FakeVendor) { self.vendor = vendor }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is TLSHandshakeDetails { self.vendor.handshakeCompleted() }
        context.fireUserInboundEventTriggered(event)
    }
}

/// The vendor's API: aggregates each request, records it, answers by path.
private final class VendorHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let vendor: FakeVendor
    let connectionID: Int
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []
    /// A request has started and its response has not ended.
    private var inFlight = false

    init(vendor: FakeVendor, connectionID: Int) {
        self.vendor = vendor
        self.connectionID = connectionID
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            self.body = []
            self.inFlight = true
            self.vendor.requestStarted()
        case .body(let chunk):
            self.body.append(contentsOf: chunk.readableBytesView)
        case .end:
            guard let head = self.head else { return }
            let index = self.vendor.record(connectionID: self.connectionID, head: head, body: self.body)
            self.answer(head, body: self.body, index: index, context: context)
            self.head = nil
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.responseEnded()
        context.fireChannelInactive()
    }

    private func responseEnded() {
        if self.inFlight {
            self.inFlight = false
            self.vendor.requestFinished()
        }
    }

    private func answer(_ head: HTTPRequestHead, body: [UInt8], index: Int, context: ChannelHandlerContext) {
        let path = String(head.uri.split(separator: "?", maxSplits: 1).first ?? "")
        if path.hasPrefix("/hang") { return }  // never answers
        let request = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
        let stream = request?["stream"] as? Bool ?? false
        let model = request?["model"] as? String ?? "unknown"
        let events = head.headers.first(name: "x-fake-events").flatMap(Int.init) ?? FakeVendor.defaultEvents
        let delay = head.headers.first(name: "x-fake-delay-ms").flatMap(Int64.init) ?? Int64(FakeVendor.defaultDelayMilliseconds)
        let breakMidStream = head.headers.first(name: "x-fake-behavior") == "break"
        // By suffix, so that providers with a base path (e.g. /idle) reach the same API.
        let api = path.hasSuffix("/v1/chat/completions") ? "/v1/chat/completions" : path.hasSuffix("/v1/messages") ? "/v1/messages" : path
        switch api {
        case "/v1/chat/completions" where stream:
            self.stream(
                FakeAPI.openAIStream(model: model, events: events), index: index, delay: .milliseconds(delay),
                breakAfter: breakMidStream ? 2 : nil, keepAlive: head.isKeepAlive, context: context
            )
        case "/v1/chat/completions":
            self.json(.ok, FakeAPI.openAICompletion(model: model, receivedBytes: body.count), head: head, context: context)
        case "/v1/messages" where stream:
            self.stream(
                FakeAPI.anthropicStream(model: model, events: events), index: index, delay: .milliseconds(delay),
                breakAfter: breakMidStream ? 2 : nil, keepAlive: head.isKeepAlive, context: context
            )
        case "/v1/messages":
            self.json(.ok, FakeAPI.anthropicMessage(model: model, receivedBytes: body.count), head: head, context: context)
        default:
            self.json(
                .notFound, #"{"error":{"message":"fake vendor: no such path","type":"invalid_request_error"}}"#,
                head: head, context: context
            )
        }
    }

    /// Headers every answer carries, including hop-by-hop ones the gateway must not pass on.
    private static func vendorHeaders(contentType: String, keepAlive: Bool) -> HTTPHeaders {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: contentType)
        headers.add(name: "x-request-id", value: "vendor-request-id")
        headers.add(name: "x-vendor-trace", value: "kept")
        headers.add(name: "X-Vendor-Hop", value: "must-not-reach-the-caller")
        headers.add(name: "Keep-Alive", value: "timeout=30")
        headers.add(name: "Connection", value: keepAlive ? "keep-alive, X-Vendor-Hop" : "close, X-Vendor-Hop")
        return headers
    }

    private func json(_ status: HTTPResponseStatus, _ text: String, head: HTTPRequestHead, context: ChannelHandlerContext) {
        var headers = Self.vendorHeaders(contentType: "application/json", keepAlive: head.isKeepAlive)
        headers.add(name: "Content-Length", value: String(text.utf8.count))
        context.write(self.wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        context.write(self.wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: text)))), promise: nil)
        self.responseEnded()
        let done = context.writeAndFlush(self.wrapOutboundOut(.end(nil)))
        if !head.isKeepAlive {
            let channel = context.channel
            done.whenComplete { _ in channel.close(promise: nil) }
        }
    }

    /// Sends `events` one by one with `delay` between them (flushing each), as a chunked `text/event-stream`.
    private func stream(
        _ events: [String], index: Int, delay: TimeAmount, breakAfter: Int?, keepAlive: Bool,
        context: ChannelHandlerContext
    ) {
        var headers = Self.vendorHeaders(contentType: "text/event-stream; charset=utf-8", keepAlive: keepAlive)
        headers.add(name: "Cache-Control", value: "no-cache")
        context.writeAndFlush(
            self.wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil
        )
        self.sendEvent(events, at: 0, index: index, delay: delay, breakAfter: breakAfter, keepAlive: keepAlive, context: context)
    }

    private func sendEvent(
        _ events: [String], at position: Int, index: Int, delay: TimeAmount, breakAfter: Int?, keepAlive: Bool,
        context: ChannelHandlerContext
    ) {
        guard context.channel.isActive else { return }
        if let breakAfter, position == breakAfter {
            context.close(promise: nil)  // mid-stream: no final chunk
            return
        }
        let isLast = position == events.count - 1
        context.writeAndFlush(self.wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: events[position])))), promise: nil)
        self.vendor.eventSent(request: index, last: isLast)
        if isLast {
            self.responseEnded()
            let done = context.writeAndFlush(self.wrapOutboundOut(.end(nil)))
            if !keepAlive {
                let channel = context.channel
                done.whenComplete { _ in channel.close(promise: nil) }
            }
            return
        }
        context.eventLoop.assumeIsolated().scheduleTask(in: delay) {
            self.sendEvent(
                events, at: position + 1, index: index, delay: delay, breakAfter: breakAfter, keepAlive: keepAlive,
                context: context
            )
        }
    }
}

/// The vendors' response bodies, as the real APIs shape them.
enum FakeAPI {
    static func openAICompletion(model: String, receivedBytes: Int) -> String {
        #"{"id":"chatcmpl-fake","object":"chat.completion","created":1700000000,"model":"\#(model)","#
            + #""choices":[{"index":0,"message":{"role":"assistant","content":"Hello from the fake vendor"},"#
            + #""finish_reason":"stop"}],"usage":{"prompt_tokens":\#(receivedBytes),"completion_tokens":5,"total_tokens":\#(receivedBytes + 5)}}"#
    }

    static func anthropicMessage(model: String, receivedBytes: Int) -> String {
        #"{"id":"msg_fake","type":"message","role":"assistant","model":"\#(model)","#
            + #""content":[{"type":"text","text":"Hello from the fake vendor"}],"stop_reason":"end_turn","#
            + #""stop_sequence":null,"usage":{"input_tokens":\#(receivedBytes),"output_tokens":5}}"#
    }

    /// `events` content chunks, then a finish chunk and `[DONE]`: events + 2 SSE events in all.
    static func openAIStream(model: String, events: Int) -> [String] {
        var out: [String] = []
        for n in 0..<events {
            out.append(
                #"data: {"id":"chatcmpl-fake","object":"chat.completion.chunk","model":"\#(model)","choices":[{"index":0,"delta":{"content":"part\#(n) "},"finish_reason":null}]}"#
                    + "\n\n"
            )
        }
        out.append(
            #"data: {"id":"chatcmpl-fake","object":"chat.completion.chunk","model":"\#(model)","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#
                + "\n\n"
        )
        out.append("data: [DONE]\n\n")
        return out
    }

    /// message_start, content_block_start, `events` deltas, content_block_stop, message_delta, message_stop.
    static func anthropicStream(model: String, events: Int) -> [String] {
        func event(_ name: String, _ data: String) -> String { "event: \(name)\ndata: \(data)\n\n" }
        var out = [
            event(
                "message_start",
                #"{"type":"message_start","message":{"id":"msg_fake","type":"message","role":"assistant","model":"\#(model)","content":[],"stop_reason":null,"usage":{"input_tokens":10,"output_tokens":1}}}"#
            ),
            event("content_block_start", #"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#),
        ]
        for n in 0..<events {
            out.append(
                event(
                    "content_block_delta",
                    #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"part\#(n) "}}"#
                )
            )
        }
        out.append(event("content_block_stop", #"{"type":"content_block_stop","index":0}"#))
        out.append(
            event("message_delta", #"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":5}}"#)
        )
        out.append(event("message_stop", #"{"type":"message_stop"}"#))
        return out
    }
}
