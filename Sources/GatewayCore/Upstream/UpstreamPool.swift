import GatewayConfig
import GatewayTLS
import NIOCore
import Synchronization

/// Where a request gets its connection to the vendor: the provider's `UpstreamPool`, or in tests connections over
/// an `EmbeddedChannel`.
protocol UpstreamSource: Sendable {
    /// Finds or opens a connection on `loop` and calls `deliver` with it on that loop. Called on `loop`.
    func acquire(on loop: any EventLoop, _ deliver: @escaping UpstreamPool.Waiter)
    /// A connection its receiver no longer wants (granted after its request had gone).
    func finished(_ connection: UpstreamConnection, reusable: Bool)
}

/// The keep-alive connections to one provider: at most `pool.max_connections` open (idle and busy) across all event
/// loops, each connection bound to the loop that opened it.
///
/// A request takes an idle connection on its own loop, or opens one there while under the bound, or waits. A
/// connection that finishes an exchange goes to a waiter on its loop, else (when waiters sit on another loop) gives
/// its slot up so that loop can open its own, else goes idle. A waiter facing only other loops' idle connections
/// closes one of them and takes its slot. A request is never retried once its bytes went out: the pool only hands
/// out connections; sending is the caller's, exactly once.
final class UpstreamPool: UpstreamSource {
    /// What a request gets from the pool. Delivered on the requesting loop.
    enum Grant {
        case connection(UpstreamConnection)
        case failed(GatewayError)
    }
    typealias Waiter = @Sendable (Grant) -> Void

    let provider: ProviderSettings
    private let tls: TLSContext?

    private struct PendingWaiter {
        let loop: any EventLoop
        let deliver: Waiter
    }
    private struct State {
        var idle: [ObjectIdentifier: [UpstreamConnection]] = [:]
        var open = 0
        var waiters: [PendingWaiter] = []
        var closed = false
    }
    private let state = Mutex(State())

    init(provider: ProviderSettings, tls: TLSContext?) {
        self.provider = provider
        self.tls = tls
    }

    private enum Plan {
        case reuse(UpstreamConnection)
        case open
        case openAfterClosing(UpstreamConnection)
        case wait
        case refuse
    }

    /// Finds or opens a connection on `loop` and calls `deliver` with it on that loop. Must be called on `loop`.
    /// The receiver of a connection it no longer wants gives it back with `finished(_:reusable:)`.
    func acquire(on loop: any EventLoop, _ deliver: @escaping Waiter) {
        let key = ObjectIdentifier(loop)
        let plan: Plan = self.state.withLock { state in
            if state.closed { return .refuse }
            while let connection = state.idle[key]?.popLast() {
                if connection.channel.isActive { return .reuse(connection) }
                if connection.retire() { state.open -= 1 }
            }
            if state.open < self.provider.pool.maxConnections {
                state.open += 1
                return .open
            }
            for (other, connections) in state.idle where !connections.isEmpty {
                let victim = state.idle[other]!.removeFirst()
                _ = victim.retire()  // its slot passes to the connection opened here
                return .openAfterClosing(victim)
            }
            state.waiters.append(PendingWaiter(loop: loop, deliver: deliver))
            return .wait
        }
        switch plan {
        case .reuse(let connection): deliver(.connection(connection))
        case .open: self.open(on: loop, deliver)
        case .openAfterClosing(let victim):
            victim.channel.close(promise: nil)
            self.open(on: loop, deliver)
        case .wait: break
        case .refuse: deliver(.failed(Self.shuttingDown))
        }
    }

    /// Opens a connection in a slot already counted for it.
    private func open(on loop: any EventLoop, _ deliver: @escaping Waiter) {
        UpstreamConnection.connect(provider: self.provider, tls: self.tls, on: loop).hop(to: loop).whenComplete {
            result in
            switch result {
            case .success(let connection):
                self.watch(connection)
                deliver(.connection(connection))
            case .failure(let error):
                self.slotFreed()
                deliver(.failed(error as? GatewayError ?? GatewayError(
                    .upstreamUnavailable, "The gateway cannot reach the vendor right now; nothing was sent.",
                    detail: String(describing: error)
                )))
            }
        }
    }

    /// Hooks the connection's exchange ends and closing into the pool. On the connection's loop.
    private func watch(_ connection: UpstreamConnection) {
        let handler = connection.handler
        handler.onExchangeEnd = { [weak self] reusable in self?.finished(connection, reusable: reusable) }
        handler.onClose = { [weak self] in self?.closed(connection) }
    }

    /// An exchange on `connection` ended. On the connection's loop.
    func finished(_ connection: UpstreamConnection, reusable: Bool) {
        guard reusable, connection.channel.isActive else {
            if connection.retire() { self.slotFreed() }
            return
        }
        let loop = connection.eventLoop
        let key = ObjectIdentifier(loop)
        let (handOver, giveUpSlot): (PendingWaiter?, Bool) = self.state.withLock { state in
            if state.closed { return (nil, true) }
            if let index = state.waiters.firstIndex(where: { $0.loop === loop }) {
                return (state.waiters.remove(at: index), false)
            }
            if !state.waiters.isEmpty { return (nil, true) }
            state.idle[key, default: []].append(connection)
            return (nil, false)
        }
        if let handOver {
            // Delivered on a later tick: the exchange that just ended is still unwinding on this stack.
            loop.execute { handOver.deliver(.connection(connection)) }
        } else if giveUpSlot {
            if connection.retire() { self.slotFreed() }
            connection.channel.close(promise: nil)
        }
    }

    /// The connection closed (idle timeout, vendor hung up, abandoned).
    private func closed(_ connection: UpstreamConnection) {
        let key = ObjectIdentifier(connection.eventLoop)
        self.state.withLock { state in state.idle[key]?.removeAll { $0 === connection } }
        if connection.retire() { self.slotFreed() }
    }

    /// A slot came free: the longest waiter opens a connection in it, else the bound drops.
    private func slotFreed() {
        let waiter: PendingWaiter? = self.state.withLock { state in
            if !state.closed, !state.waiters.isEmpty { return state.waiters.removeFirst() }
            state.open -= 1
            return nil
        }
        guard let waiter else { return }
        waiter.loop.execute { self.open(on: waiter.loop, waiter.deliver) }
    }

    /// What requests get once the pool is shut down.
    private static let shuttingDown = GatewayError(.shuttingDown, "The gateway is shutting down")

    /// Closes idle connections and refuses new requests; exchanges in flight finish on their own.
    func shutdown() {
        let (idle, waiters) = self.state.withLock { state in
            state.closed = true
            defer {
                state.idle.removeAll()
                state.waiters.removeAll()
            }
            return (state.idle.values.flatMap { $0 }, state.waiters)
        }
        idle.forEach { $0.channel.close(promise: nil) }
        for waiter in waiters {
            waiter.loop.execute { waiter.deliver(.failed(Self.shuttingDown)) }
        }
    }
}
