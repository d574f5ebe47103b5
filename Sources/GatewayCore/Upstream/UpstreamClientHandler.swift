import NIOCore
import NIOHTTP1

/// Where one vendor response goes, part by part. Called on the event loop that the caller's connection and the
/// upstream connection share, so parts are written to the caller without a thread hop.
protocol UpstreamResponseReceiver: AnyObject {
    func upstreamResponseHead(_ head: HTTPResponseHead)
    func upstreamResponseBody(_ chunk: ByteBuffer)
    /// The upstream connection's read burst is over: what was relayed is to be flushed (at the end of the pass).
    func upstreamReadComplete()
    func upstreamResponseEnd()
    /// The exchange failed; `responseStarted` says whether a head had already been relayed.
    func upstreamFailed(_ error: GatewayError, responseStarted: Bool)
}

/// The last handler of an upstream connection: sends one request at a time and relays its response.
///
/// States: `idle` (in the pool or being handed over) → `awaitingHead` (request written; the first-byte deadline
/// runs) → `relaying` → `idle` again after a complete keep-alive response. Anything else — an error, EOF, a caller that
/// left, a response without keep-alive — closes the connection; it is never reused after a partial exchange.
final class UpstreamClientHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private enum State {
        case idle
        case awaitingHead(any UpstreamResponseReceiver, deadline: NIODeadline, timeout: TimeAmount)
        case relaying(any UpstreamResponseReceiver, keepAlive: Bool)
        case closed
    }

    private var state = State.idle
    private var context: ChannelHandlerContext?
    private let providerName: String
    /// Silence longer than this (no byte either way) closes the connection: an idle pooled connection, or a vendor
    /// that stalls mid-stream. This and the first-byte deadline are checked by one timer per connection that re-arms
    /// itself, not a timer per read or per request.
    private let idleTimeout: TimeAmount
    private var lastActivity = NIODeadline.uptimeNanoseconds(0)
    private var check: (task: Scheduled<Void>, at: NIODeadline)?
    /// The request goes out with the other requests written in this pass (see `PassEndFlush`).
    private let passEndFlush = PassEndFlush()
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
        self.armCheck(at: self.lastActivity + self.idleTimeout)
    }

    private func armCheck(at deadline: NIODeadline) {
        guard let context = self.context else { return }
        self.check?.task.cancel()
        let task = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [weak self] () -> Void in
            self?.checkDeadlines()
        }
        self.check = (task, deadline)
    }

    /// The timer fired: fail a missing first byte, close a silent connection, or re-arm for the next deadline.
    private func checkDeadlines() {
        guard let context = self.context else { return }
        self.check = nil
        let now = context.eventLoop.now
        if case .awaitingHead(_, let deadline, let timeout) = self.state, now >= deadline {
            self.firstByteTimedOut(after: timeout)
        } else if now - self.lastActivity >= self.idleTimeout {
            context.close(promise: nil)
        } else {
            self.armCheck(at: self.nextDeadline())
        }
    }

    /// The earlier of the idle deadline and, while waiting for a response, the first-byte deadline.
    private func nextDeadline() -> NIODeadline {
        let idle = self.lastActivity + self.idleTimeout
        if case .awaitingHead(_, let firstByte, _) = self.state { return min(idle, firstByte) }
        return idle
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
        let now = context.eventLoop.now
        let deadline = now + firstByteTimeout
        self.state = .awaitingHead(receiver, deadline: deadline, timeout: firstByteTimeout)
        self.lastActivity = now
        // The connection's timer usually fires before this deadline anyway (with the default timeouts, first byte
        // and idle are both 600 s) and re-arms for it then; only a sooner deadline moves it.
        if let check = self.check, check.at > deadline { self.armCheck(at: deadline) }
        context.write(self.wrapOutboundOut(.head(head)), promise: nil)
        context.write(self.wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        context.write(self.wrapOutboundOut(.end(nil)), promise: nil)
        self.passEndFlush.request(context)
    }

    /// The caller went away: stop relaying and close, which cancels the vendor's work.
    func abandon() {
        guard let context = self.context else { return }
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
        case (.head(let head), .awaitingHead(let receiver, _, _)):
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
            GatewayError(
                .upstreamProtocol, "The connection to \(self.providerName) broke.",
                detail: UpstreamConnection.describe(error)
            ),
            context
        )
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.check?.task.cancel()
        self.check = nil
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
        case .awaitingHead(let receiver, _, _):
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
