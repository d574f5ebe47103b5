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
    private var context: ChannelHandlerContext?
    /// When the current wait ends, and which limit it is; nil while no wait is timed (`busy`).
    private var deadline: (at: NIODeadline, limit: ProtectiveLimit)?
    /// The one timer and when it fires. Transitions only move `deadline`: the timer is scheduled for at most
    /// `checkInterval` ahead and, when it fires early, re-arms itself for what is left. A request thus schedules and
    /// cancels no task of its own (three transitions per request did, and cost the proxy allocations per request).
    private var timer: (task: Scheduled<Void>, at: NIODeadline)?
    private let checkInterval: TimeAmount

    init(limits: ConnectionClock.Limits, counters: LimitCounters) {
        self.clock = ConnectionClock(limits: limits)
        self.counters = counters
        self.checkInterval = min(limits.handshake, limits.head, limits.body, limits.keepAlive)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { self.apply(self.clock.accepted()) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.timer?.task.cancel()
        self.timer = nil
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        self.apply(self.clock.accepted())
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.timer?.task.cancel()
        self.timer = nil
        self.deadline = nil
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
            self.deadline = nil  // the timer, when it fires, finds nothing to time and stops
        case .arm(let delay, let limit):
            let at = NIODeadline.now() + delay
            self.deadline = (at, limit)
            if let timer = self.timer, timer.at <= at { return }  // it fires in time and re-arms itself
            self.timer?.task.cancel()
            self.schedule(at: min(at, .now() + self.checkInterval))
        }
    }

    private func schedule(at when: NIODeadline) {
        guard let context = self.context else { return }
        let task = context.eventLoop.assumeIsolated().scheduleTask(deadline: when) { self.timerFired() }
        self.timer = (task, when)
    }

    private func timerFired() {
        self.timer = nil
        guard let (at, limit) = self.deadline, let context = self.context else { return }
        let now = NIODeadline.now()
        guard now >= at else {
            self.schedule(at: min(at, now + self.checkInterval))
            return
        }
        self.counters.hit(limit)
        context.close(promise: nil)
    }
}
