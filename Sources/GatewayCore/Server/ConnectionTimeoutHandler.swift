import GatewayTLS
import NIOCore

/// Carries out a connection's `ConnectionClock`: sits between TLS and the HTTP decoder, so it sees the handshake's
/// completion and every decrypted byte; `ProxyHandler` tells it of heads, ends of bodies and ends of responses. When
/// the armed timer fires, the connection is closed and the limit counted (no decision record: a flood of slow
/// connections must not become a flood of records).
final class ConnectionTimeoutHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private var clock: ConnectionClock
    private let counters: LimitCounters
    private var timer: Scheduled<Void>?
    /// Counts armings, so that a timer whose cancellation came too late to stop it does nothing.
    private var generation = 0
    private var context: ChannelHandlerContext?

    init(limits: ConnectionClock.Limits, counters: LimitCounters) {
        self.clock = ConnectionClock(limits: limits)
        self.counters = counters
    }

    var state: ConnectionClock.State { self.clock.state }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { self.apply(self.clock.accepted()) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.timer?.cancel()
        self.timer = nil
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        self.apply(self.clock.accepted())
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.timer?.cancel()
        self.timer = nil
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is TLSHandshakeDetails { self.apply(self.clock.handshakeCompleted()) }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.apply(self.clock.bytesReceived())
        context.fireChannelRead(data)
    }

    // MARK: - From ProxyHandler

    func headReceived() { self.apply(self.clock.headReceived()) }
    func bodyReceived() { self.apply(self.clock.bodyReceived()) }
    func responseEnded() { self.apply(self.clock.responseEnded()) }

    private func apply(_ action: ConnectionClock.TimerAction) {
        switch action {
        case .keep:
            return
        case .cancel:
            self.generation += 1
            self.timer?.cancel()
            self.timer = nil
        case .arm(let delay, let limit):
            self.timer?.cancel()
            guard let context = self.context else { return }
            self.generation += 1
            let generation = self.generation
            self.timer = context.eventLoop.assumeIsolated().scheduleTask(in: delay) {
                guard self.generation == generation, let context = self.context else { return }
                self.counters.hit(limit)
                context.close(promise: nil)
            }
        }
    }
}
