import NIOCore
import NIOHTTP1

/// Where one vendor response goes, part by part. Called on the event loop that the caller's connection and the
/// upstream connection share, so parts are written to the caller without a thread hop.
protocol UpstreamResponseReceiver: AnyObject {
    func upstreamResponseHead(_ head: HTTPResponseHead)
    func upstreamResponseBody(_ chunk: ByteBuffer)
    /// The upstream connection's read burst is over: the time to flush what was relayed.
    func upstreamReadComplete()
    func upstreamResponseEnd()
    /// The exchange failed; `responseStarted` says whether a head had already been relayed.
    func upstreamFailed(_ error: GatewayError, responseStarted: Bool)
}

/// The last handler of an upstream connection: sends one request at a time and relays its response.
///
/// States: `idle` (in the pool or being handed over) → `awaitingHead` (request written; the first-byte timer runs)
/// → `relaying` → `idle` again after a complete keep-alive response. Anything else — an error, EOF, a caller that
/// left, a response without keep-alive — closes the connection; it is never reused after a partial exchange.
final class UpstreamClientHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private enum State {
        case idle
        case awaitingHead(any UpstreamResponseReceiver, Scheduled<Void>)
        case relaying(any UpstreamResponseReceiver, keepAlive: Bool)
        case closed
    }

    private var state = State.idle
    private var context: ChannelHandlerContext?
    private let providerName: String
    /// Silence longer than this (no byte either way) closes the connection: an idle pooled connection, or a vendor
    /// that stalls mid-stream. Checked by one timer that re-arms itself, not a timer per read.
    private let idleTimeout: TimeAmount
    private var lastActivity = NIODeadline.uptimeNanoseconds(0)
    private var idleCheck: Scheduled<Void>?
    /// Told after each exchange whether the connection can serve another; and when an idle connection closes.
    var onExchangeEnd: ((_ reusable: Bool) -> Void)?
    var onClose: (() -> Void)?

    init(providerName: String, idleTimeout: TimeAmount) {
        self.providerName = providerName
        self.idleTimeout = idleTimeout
    }

    var isIdle: Bool { if case .idle = self.state { self.context?.channel.isActive ?? false } else { false } }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        self.lastActivity = context.eventLoop.now
        self.armIdleCheck(in: self.idleTimeout)
    }

    private func armIdleCheck(in delay: TimeAmount) {
        guard let context = self.context else { return }
        self.idleCheck = context.eventLoop.assumeIsolated().scheduleTask(in: delay) { [weak self] in
            guard let self, let context = self.context else { return }
            let silent = context.eventLoop.now - self.lastActivity
            if silent >= self.idleTimeout {
                context.close(promise: nil)
            } else {
                self.armIdleCheck(in: self.idleTimeout - silent)
            }
        }
    }

    /// Writes the request and relays its response to `receiver`.
    func send(
        head: HTTPRequestHead, body: ByteBuffer, to receiver: any UpstreamResponseReceiver, firstByteTimeout: TimeAmount
    ) {
        guard case .idle = self.state, let context = self.context, context.channel.isActive else {
            receiver.upstreamFailed(
                GatewayError(.upstreamProtocol, "The connection to \(self.providerName) closed"), responseStarted: false
            )
            return
        }
        let timer = context.eventLoop.assumeIsolated().scheduleTask(in: firstByteTimeout) { [weak self] in
            guard let self else { return }
            self.firstByteTimedOut(after: firstByteTimeout)
        }
        self.state = .awaitingHead(receiver, timer)
        self.lastActivity = context.eventLoop.now
        context.write(self.wrapOutboundOut(.head(head)), promise: nil)
        context.write(self.wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        context.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: nil)
    }

    /// The caller went away: stop relaying and close, which cancels the vendor's work.
    func abandon() {
        guard let context = self.context else { return }
        switch self.state {
        case .awaitingHead(_, let timer):
            timer.cancel()
        case .relaying, .idle, .closed:
            break
        }
        self.state = .closed
        context.close(promise: nil)
    }

    /// Whether the connection reads (false while the caller cannot take more).
    private(set) var isReading = true

    /// Stops or resumes reading the vendor's response, following the caller's writability.
    func setReading(_ enabled: Bool) {
        guard enabled != self.isReading else { return }
        self.isReading = enabled
        try? self.context?.channel.syncOptions?.setOption(.autoRead, value: enabled)
    }

    // MARK: - Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.lastActivity = context.eventLoop.now
        switch (self.unwrapInboundIn(data), self.state) {
        case (.head(let head), .awaitingHead(let receiver, let timer)):
            timer.cancel()
            self.state = .relaying(receiver, keepAlive: head.isKeepAlive)
            receiver.upstreamResponseHead(head)
        case (.body(let chunk), .relaying(let receiver, _)):
            receiver.upstreamResponseBody(chunk)
        case (.end, .relaying(let receiver, let keepAlive)):
            self.state = keepAlive ? .idle : .closed
            // The caller's backpressure may have paused reading within this very burst; a connection goes back to
            // the pool reading, or its next exchange would wait for a first byte it never reads.
            self.setReading(true)
            // Reuse is decided before the caller hears of the end, so the caller's next request may take this
            // connection at once.
            self.onExchangeEnd?(keepAlive)
            receiver.upstreamResponseEnd()
            if !keepAlive { context.close(promise: nil) }
        case (_, .closed):
            break
        default:
            self.fail(GatewayError(.upstreamProtocol, "\(self.providerName) sent a response part out of order"), context)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if case .relaying(let receiver, _) = self.state { receiver.upstreamReadComplete() }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.fail(
            GatewayError(.upstreamProtocol, "The connection to \(self.providerName) broke: \(UpstreamConnection.describe(error))"),
            context
        )
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.idleCheck?.cancel()
        switch self.state {
        case .idle, .closed:
            self.state = .closed
            self.onClose?()
        case .awaitingHead, .relaying:
            self.fail(GatewayError(.upstreamProtocol, "The connection to \(self.providerName) closed mid-exchange"), context)
            self.onClose?()
        }
        context.fireChannelInactive()
    }

    // MARK: - Failures

    private func firstByteTimedOut(after timeout: TimeAmount) {
        guard case .awaitingHead = self.state, let context = self.context else { return }
        self.fail(
            GatewayError(.upstreamTimeout, "\(self.providerName) did not answer within \(timeout.nanoseconds / 1_000_000_000) s"),
            context
        )
    }

    private func fail(_ error: GatewayError, _ context: ChannelHandlerContext) {
        let previous = self.state
        self.state = .closed
        switch previous {
        case .awaitingHead(let receiver, let timer):
            timer.cancel()
            self.onExchangeEnd?(false)
            receiver.upstreamFailed(error, responseStarted: false)
        case .relaying(let receiver, _):
            self.onExchangeEnd?(false)
            receiver.upstreamFailed(error, responseStarted: true)
        case .idle, .closed:
            break
        }
        context.close(promise: nil)
    }
}
