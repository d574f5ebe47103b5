import GatewayAccess
import GatewayCrypto
import GatewayTLS
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// What every caller connection shares: the phases, the upstream connections, the limits.
struct ProxySettings: Sendable {
    /// The phases in force (replaced by a reload).
    let live: LivePipeline
    let upstreams: [String: any UpstreamSource]
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

/// One caller's connection, on its event loop: the executor of its `RequestStateMachine`.
///
/// Every channel event and every result of a wait (inspection off the loop, a decision record, an upstream
/// connection, the vendor's answer) is told to the state machine, and the handler performs the action it returns.
/// The handler keeps only what belongs to the connection: the channel context, the TLS session, the key verified
/// on it, the caller's address.
final class ProxyHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// Reached only on the connection's event loop, one transition at a time (no overlapping access to check).
    @exclusivity(unchecked) var machine: RequestStateMachine
    private var tls: TLSHandshakeDetails?
    /// The gateway key authenticated on this connection, handed to each request's context (see `VerifiedKey`).
    private var verifiedKey: VerifiedKey?
    /// The caller's IP address as text, formatted once per connection rather than per request.
    private var clientAddress: String?
    private(set) var channelContext: ChannelHandlerContext?
    /// Answers go out with the other answers written in this pass (see `PassEndFlush`).
    let passEndFlush = PassEndFlush()
    let settings: ProxySettings
    /// The connection's timeouts, told when a head has arrived, a body has ended and a response has ended.
    let timeouts: ConnectionTimeoutHandler?
    private static let logger = Logger(label: "gateway.connection")

    init(settings: ProxySettings, timeouts: ConnectionTimeoutHandler? = nil) {
        self.settings = settings
        self.timeouts = timeouts
        let offLoopBytes = settings.offLoopInspectionBytes
        let hasPool = settings.inspectionPool != nil
        self.machine = RequestStateMachine(
            settings: .init(
                live: settings.live, maxBodyBytes: settings.maxBodyBytes, bodyBudget: settings.bodyBudget,
                metrics: settings.metrics,
                inspectsOffLoop: { hasPool && Self.admitsOffLoop($0, offLoopBytes: offLoopBytes) }
            )
        )
    }

    // MARK: - Connection events

    func handlerAdded(context: ChannelHandlerContext) { self.channelContext = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.channelContext = nil }

    func channelActive(context: ChannelHandlerContext) {
        self.settings.registry.opened(context.channel)
        self.settings.metrics.connectionOpened()
        // Registered just after a drain went out: this connection drains too.
        if self.settings.registry.isDraining { _ = self.machine.drain() }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.perform(self.machine.callerClosed())
        self.settings.registry.closed(context.channel)
        self.settings.metrics.connectionClosed()
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let details = event as? TLSHandshakeDetails { self.tls = details }
        if event is DrainRequested {
            self.perform(self.machine.drain())
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        // The vendor is read only as fast as the caller takes the answer: a slow caller never makes the gateway
        // buffer a whole stream.
        self.machine.relayingConnection?.handler.setReading(context.channel.isWritable)
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
        self.perform(self.machine.parseFailed(failure, context: self.newContext(method: "", target: "")))
    }

    // MARK: - Request parts

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.handle(self.unwrapInboundIn(data))
    }

    private func handle(_ part: HTTPServerRequestPart, held: Bool = false) {
        self.transition { machine throws(RequestStateMachine.IllegalTransition) in
            let action = try machine.requestPart(part, held: held)
            if case .end = part, !Self.isPause(action) { self.timeouts?.bodyReceived() }
            return action
        }
    }

    private static func isPause(_ action: RequestStateMachine.Action) -> Bool {
        if case .pauseReading = action { true } else { false }
    }

    /// Feeds held pipelined parts in until a request is busy again; reading resumes once none are left.
    private func resumePipelined() {
        while let part = self.machine.nextPipelinedPart() { self.handle(part, held: true) }
        if !self.machine.hasPipelinedParts, !self.machine.isClosed {
            try? self.channelContext?.channel.syncOptions?.setOption(.autoRead, value: true)
        }
    }

    /// A new request's context: its id, the caller's address and TLS session, the key verified on the connection.
    private func newContext(method: String, target: String) -> RequestContext {
        if self.clientAddress == nil { self.clientAddress = self.channelContext?.channel.remoteAddress?.ipAddress }
        var context = RequestContext(
            requestID: Self.newRequestID(), method: method, target: target, clientAddress: self.clientAddress,
            tls: self.tls
        )
        context.verifiedKey = self.verifiedKey
        return context
    }

    /// Runs a transition and performs its action; an illegal transition closes the connection.
    func transition(
        _ event: (inout RequestStateMachine) throws(RequestStateMachine.IllegalTransition) -> RequestStateMachine.Action
    ) {
        do {
            self.perform(try event(&self.machine))
        } catch {
            Self.logger.error("closing the connection", metadata: ["error": "\(error)"])
            self.channelContext?.close(promise: nil)
        }
    }

    // MARK: - Actions

    func perform(_ action: RequestStateMachine.Action) {
        // Accounting needs no channel: a request whose caller has gone still completes once.
        switch action {
        case .none:
            return
        case .complete(let completion):
            self.complete(completion)
            return
        case .abandon(let connection, let completion):
            connection.handler.abandon()
            self.complete(completion)
            return
        case .releaseBody(let bytes):
            self.settings.bodyBudget.release(bytes)
            return
        default:
            break
        }
        guard let context = self.channelContext else { return }
        switch action {
        case .none, .complete, .abandon, .releaseBody:
            break
        case .pauseReading:
            try? context.channel.syncOptions?.setOption(.autoRead, value: false)
        case .beginRequest(let head):
            self.timeouts?.headReceived()
            let requestContext = self.newContext(method: head.method.rawValue, target: head.uri)
            var verifiedKey = self.verifiedKey
            self.transition { machine throws(RequestStateMachine.IllegalTransition) in
                try machine.headReceived(head, context: requestContext, verifiedKey: &verifiedKey)
            }
            self.verifiedKey = verifiedKey
        case .receiveBody(let expectedBytes, let sendContinue):
            if sendContinue {
                context.writeAndFlush(
                    self.wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .continue))), promise: nil
                )
            }
            // Pre-sized only up to 1 MiB: a head alone, declaring a large body that never comes, must not hold memory.
            self.machine.bodyBufferAllocated(context.channel.allocator.buffer(capacity: min(max(0, expectedBytes), 1 << 20)))
        case .inspectOffLoop(let flight, let body):
            self.inspectOffLoop(flight, body: body, on: context.eventLoop)
        case .recordForwarded(let flight):
            let serial = flight.serial
            flight.pipeline.recordForwarded(flight.context, on: context.eventLoop).assumeIsolated().whenComplete { result in
                self.transition { machine throws(RequestStateMachine.IllegalTransition) in
                    try machine.recordDurable(serial: serial, result)
                }
            }
        case .recordRefusal(let error, let flight, let body):
            let serial = flight.serial
            flight.pipeline.recordRefused(error, context: flight.context, body: body, on: context.eventLoop)
                .assumeIsolated().whenSuccess { answer, recordID in
                    self.transition { machine throws(RequestStateMachine.IllegalTransition) in
                        try machine.refusalRecorded(serial: serial, answer: answer, recordID: recordID)
                    }
                }
        case .sendUpload(let file, let flight):
            self.sendUpload(file, flight: flight, on: context.eventLoop)
        case .acquireUpstream(let flight):
            self.acquireUpstream(provider: flight.context.provider?.name ?? "", serial: flight.serial, on: context.eventLoop)
        case .returnConnection(let connection):
            // The grant's receiver gives it back to its pool (`acquireUpstream`); a connection reaching here has no
            // pool to go back to, so it is closed.
            connection.handler.abandon()
        case .send(let flight):
            guard let upstream = flight.upstream, let connection = flight.connection else { break }
            let seconds = flight.context.provider?.timeouts.firstByteSeconds ?? 600
            connection.handler.send(
                head: upstream.head, body: upstream.body, to: self, firstByteTimeout: .seconds(Int64(seconds))
            )
        case .write(let part):
            context.write(self.wrapOutboundOut(part), promise: nil)
            if case .body = part, !context.channel.isWritable {
                self.machine.relayingConnection?.handler.setReading(false)
            }
        case .finish(let finish):
            self.finish(finish, context: context)
        case .close:
            // The last answer may still wait for the end of this pass; closing would discard it unwritten.
            if self.passEndFlush.isScheduled { context.flush() }
            context.close(promise: nil)
        }
    }

    private func complete(_ completion: RequestStateMachine.Completion) {
        let flight = completion.flight
        self.settings.bodyBudget.release(flight.reservedBytes)
        flight.reservedBytes = 0
        flight.pipeline.complete(context: flight.context, states: flight.states)
    }

    /// Completes the request once, then writes its last parts and keeps the connection or closes it.
    private func finish(_ finish: RequestStateMachine.Finish, context: ChannelHandlerContext) {
        self.complete(finish.completion)
        if !finish.close { self.timeouts?.responseEnded() }
        if finish.resumePipelined {
            // After this stack unwinds, so the next request starts on a clean state.
            context.eventLoop.assumeIsolated().execute { self.resumePipelined() }
        }
        let parts = finish.lastParts
        for part in parts.dropLast() { context.write(self.wrapOutboundOut(part), promise: nil) }
        guard let last = parts.last else {
            context.flush()
            if finish.close { context.close(promise: nil) }
            return
        }
        if finish.close {
            let written = context.eventLoop.makePromise(of: Void.self)
            context.writeAndFlush(self.wrapOutboundOut(last), promise: written)
            written.futureResult.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        } else {
            context.write(self.wrapOutboundOut(last), promise: nil)
            self.passEndFlush.request(context)
        }
    }

    static func newRequestID() -> String { "req_" + Crypto.hex(Crypto.identifierBytes(count: 12)) }
}
