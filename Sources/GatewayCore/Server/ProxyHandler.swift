import GatewayAccess
import GatewayCrypto
import GatewayTLS
import NIOCore
import NIOHTTP1
import NIOPosix

/// What every caller connection shares: the phases, the upstream pools, the limits.
struct ProxySettings: Sendable {
    let pipeline: RequestPipeline
    let pools: [String: UpstreamPool]
    let maxBodyBytes: Int
    let registry: ConnectionRegistry
    let metrics: GatewayMetrics
    /// Bodies at least this large are inspected on `inspectionPool`, so one large upload cannot stall every other
    /// connection on its event loop.
    let offLoopInspectionBytes: Int
    let inspectionPool: NIOThreadPool?
    /// Request bodies held in memory, all connections together (`limits.max_buffered_body_bytes`).
    let bodyBudget: BodyBudget
}

/// One caller's connection, on its event loop: HTTP/1.1 requests served one after another through the phases.
///
/// The request's state machine:
/// `idle` → head: authenticate, route → `receiving` (body held up to the limit) → end: inspect, build the vendor's
/// head → `admitting` (decision record made durable, upstream connection taken) → `relaying` (the vendor's parts
/// written as they arrive and flushed in the event-loop pass they arrived in, so server-sent events are not held back)
/// → `idle`.
/// A refusal at any point goes to `refusing`: its record is made durable, then the answer is sent in the vendor's
/// error shape. A request refused before its body was read closes the connection, since the unread body would
/// otherwise be taken for the next request. Requests pipelined behind the current one are held (and reading paused)
/// until its response has ended; unlike NIO's pipeline handler this costs nothing when a client does not pipeline.
final class ProxyHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    enum State {
        case idle
        case receiving
        case refusing
        case admitting
        case relaying(UpstreamConnection)
        case closed
    }

    /// Set only by the handler's own files (this one and its `+Admission` and `+Responses` extensions).
    var state = State.idle
    /// The request in progress; async steps check they still belong to it when they complete.
    private(set) var currentRequest: InFlightRequest?
    private var tls: TLSHandshakeDetails?
    /// The gateway key authenticated on this connection, handed to each request's context (see `VerifiedKey`).
    var verifiedKey: VerifiedKey?
    /// The caller's IP address as text, formatted once per connection rather than per request.
    private var clientAddress: String?
    /// Parts of requests pipelined behind the current one (HTTP/1.1 allows sending before answers arrive).
    private var pipelined: [HTTPServerRequestPart] = []
    /// Set when the connection must close once the current response has ended (a parse error behind it, or the
    /// gateway draining).
    private var closeAfterResponse = false
    private(set) var channelContext: ChannelHandlerContext?
    /// Answers go out with the other answers written in this pass (see `PassEndFlush`).
    let passEndFlush = PassEndFlush()
    let settings: ProxySettings
    /// The connection's timeouts, told when a head has arrived, a body has ended and a response has ended.
    let timeouts: ConnectionTimeoutHandler?

    init(settings: ProxySettings, timeouts: ConnectionTimeoutHandler? = nil) {
        self.settings = settings
        self.timeouts = timeouts
    }

    var pipeline: RequestPipeline { self.settings.pipeline }

    // MARK: - Connection events

    func handlerAdded(context: ChannelHandlerContext) { self.channelContext = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.channelContext = nil }

    func channelActive(context: ChannelHandlerContext) {
        self.settings.registry.opened(context.channel)
        self.settings.metrics.connectionOpened()
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        let previous = self.state
        self.state = .closed
        if let flight = self.currentRequest {
            // The caller left mid-request: stop the vendor's work and account for the request once.
            if case .relaying(let connection) = previous { connection.handler.abandon() }
            flight.context.error = flight.context.error ?? GatewayError(.badRequest, "The caller closed the connection")
            self.currentRequest = nil
            self.releaseBody(of: flight)
            self.pipeline.complete(context: flight.context)
        }
        self.settings.registry.closed(context.channel)
        self.settings.metrics.connectionClosed()
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let details = event as? TLSHandshakeDetails { self.tls = details }
        if event is DrainRequested {
            // Shutdown: an idle connection closes now; a busy one after its current response.
            self.closeAfterResponse = true
            if case .idle = self.state, self.pipelined.isEmpty {
                // The last answer may still wait for the end of this pass; closing would discard it unwritten.
                if self.passEndFlush.isScheduled { context.flush() }
                context.close(promise: nil)
            }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        // The vendor is read only as fast as the caller takes the answer: a slow caller never makes the gateway
        // buffer a whole stream.
        if case .relaying(let connection) = self.state { connection.handler.setReading(context.channel.isWritable) }
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if case ByteToMessageDecoderError.dataReceivedInErrorState = error {
            // More bytes after a parse error: that error is being answered (its record is being written), and the
            // connection closes after the answer. Closing here would drop the answer.
            return
        }
        guard let parserError = error as? HTTPParserError, context.channel.isActive else {
            // TLS failures and resets: nothing to say. A request cut short by the connection closing (the caller
            // left, or a timeout closed it) has nobody to answer and no record: `channelInactive` accounts for it.
            context.close(promise: nil)
            return
        }
        let failure =
            parserError == .headerOverflow
            ? GatewayError(.headersTooLarge, "The request headers are larger than this gateway accepts.")
            : GatewayError(.badRequest, "The request is not valid HTTP/1.1 (\(parserError)); it was not forwarded.")
        switch self.state {
        case .idle:
            let flight = self.startRequest(
                HTTPRequestHead(version: .http1_1, method: .GET, uri: ""), method: "", target: "", context: context
            )
            self.refuse(failure, flight: flight, quarantining: nil, bodyRead: false)
        case .receiving:
            if let flight = self.currentRequest { self.refuse(failure, flight: flight, quarantining: nil, bodyRead: false) }
        case .refusing, .admitting, .relaying:
            self.closeAfterResponse = true
        case .closed:
            break
        }
    }

    // MARK: - Request parts

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = self.unwrapInboundIn(data)
        switch self.state {
        case .idle where self.pipelined.isEmpty, .receiving where self.pipelined.isEmpty:
            self.handle(part, context: context)
        case .idle, .receiving, .refusing, .admitting, .relaying:
            // A pipelined request behind the one being served: held, and reading paused, until this one ends.
            self.pipelined.append(part)
            try? context.channel.syncOptions?.setOption(.autoRead, value: false)
        case .closed:
            break
        }
    }

    /// Feeds held pipelined parts in until a request is busy again; reading resumes once none are left.
    private func resumePipelined(context: ChannelHandlerContext) {
        while self.acceptsParts, !self.pipelined.isEmpty {
            self.handle(self.pipelined.removeFirst(), context: context)
        }
        if self.pipelined.isEmpty { try? context.channel.syncOptions?.setOption(.autoRead, value: true) }
    }

    /// Whether a request part can be handled now (else it waits in `pipelined`).
    private var acceptsParts: Bool {
        switch self.state {
        case .idle, .receiving: true
        case .refusing, .admitting, .relaying, .closed: false
        }
    }

    private func handle(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
        switch part {
        case .head(let head):
            guard case .idle = self.state else { return }
            self.begin(head, context: context)
        case .body(var chunk):
            guard case .receiving = self.state, let flight = self.currentRequest else { return }
            guard flight.body.readableBytes + chunk.readableBytes <= flight.limit else {
                self.refuse(Self.tooLarge(flight.limit), flight: flight, quarantining: nil, bodyRead: false)
                return
            }
            if flight.body.readableBytes + chunk.readableBytes > flight.reservedBytes {
                // A body reserves its memory as it arrives; a small one (by its declared length, or so far) is never
                // refused (`BodyBudget.smallBodyBytes`).
                let growth = flight.body.readableBytes + chunk.readableBytes - flight.reservedBytes
                let total = max(flight.declaredBytes, flight.reservedBytes + growth)
                guard self.settings.bodyBudget.reserve(growth, bodyTotal: total) else {
                    self.refuse(self.overBudget(), flight: flight, quarantining: nil, bodyRead: false)
                    return
                }
                flight.reservedBytes += growth
            }
            flight.body.writeBuffer(&chunk)
        case .end:
            guard case .receiving = self.state, let flight = self.currentRequest else { return }
            self.timeouts?.bodyReceived()
            self.admit(flight)
        }
    }

    func startRequest(
        _ head: HTTPRequestHead, method: String, target: String, context: ChannelHandlerContext
    ) -> InFlightRequest {
        if self.clientAddress == nil { self.clientAddress = context.channel.remoteAddress?.ipAddress }
        var requestContext = RequestContext(
            requestID: Self.newRequestID(), method: method, target: target, clientAddress: self.clientAddress,
            tls: self.tls
        )
        requestContext.verifiedKey = self.verifiedKey
        let flight = InFlightRequest(head: head, context: requestContext)
        self.currentRequest = flight
        return flight
    }

    // MARK: - Ending a request

    /// Records the refusal durably, then answers it.
    func refuse(_ error: GatewayError, flight: InFlightRequest, quarantining body: ByteBuffer?, bodyRead: Bool) {
        guard let loop = self.channelContext?.eventLoop else { return }
        self.state = .refusing
        let keepAlive = bodyRead && flight.head.isKeepAlive
        self.pipeline.recordRefused(error, context: flight.context, body: body, on: loop).assumeIsolated()
            .whenSuccess { answer, recordID in
                guard self.currentRequest === flight else { return }
                flight.context.auditRecordID = recordID
                flight.context.error = answer
                self.respond(answer, flight: flight, keepAlive: keepAlive)
            }
    }

    /// Ends the request: completes its accounting exactly once, then writes its last parts and keeps the
    /// connection or closes it.
    func finish(_ flight: InFlightRequest, keepAlive: Bool, lastParts: [HTTPServerResponsePart]) {
        guard self.currentRequest === flight, let context = self.channelContext else { return }
        self.currentRequest = nil
        self.releaseBody(of: flight)
        self.pipeline.complete(context: flight.context)
        // `isDraining` as well as the drain event: a connection registered just after the event went out.
        let close = !keepAlive || self.closeAfterResponse || self.settings.registry.isDraining
        self.state = close ? .closed : .idle
        if !close { self.timeouts?.responseEnded() }
        if !close, !self.pipelined.isEmpty {
            // After this stack unwinds, so the next request starts on a clean state.
            context.eventLoop.assumeIsolated().execute { self.resumePipelined(context: context) }
        }
        for part in lastParts.dropLast() { context.write(self.wrapOutboundOut(part), promise: nil) }
        guard let last = lastParts.last else {
            context.flush()
            if close { context.close(promise: nil) }
            return
        }
        if close {
            let written = context.eventLoop.makePromise(of: Void.self)
            context.writeAndFlush(self.wrapOutboundOut(last), promise: written)
            written.futureResult.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        } else {
            context.write(self.wrapOutboundOut(last), promise: nil)
            self.passEndFlush.request(context)
        }
    }

    /// Gives the request's share of the body budget back (its body is no longer held).
    private func releaseBody(of flight: InFlightRequest) {
        self.settings.bodyBudget.release(flight.reservedBytes)
        flight.reservedBytes = 0
    }

    /// The refusal of a body that would take the gateway past its budget of held bodies; counted.
    func overBudget() -> GatewayError {
        self.settings.metrics.limits.hit(.bodyBudget)
        return GatewayError(
            .overloaded,
            "The gateway is holding as many request bodies for inspection as it may; nothing was sent. Retry shortly.",
            retryAfterSeconds: 2
        )
    }

    static func tooLarge(_ limit: Int) -> GatewayError {
        GatewayError(.payloadTooLarge, "The request body is larger than this gateway accepts (\(limit) bytes).")
    }

    static func newRequestID() -> String { "req_" + Crypto.hex(Crypto.identifierBytes(count: 12)) }
}

/// The mutable state of the request a connection is serving.
final class InFlightRequest {
    let head: HTTPRequestHead
    var context: RequestContext
    var body = ByteBuffer()
    var limit = 0
    /// Bytes of the body budget this request holds: what its body has grown to.
    var reservedBytes = 0
    /// The body's declared `Content-Length` (0 without one).
    var declaredBytes = 0
    /// Whether the vendor's response has no `Content-Length` (a broken stream can then still be ended cleanly).
    var chunked = false

    init(head: HTTPRequestHead, context: RequestContext) {
        self.head = head
        self.context = context
    }
}
