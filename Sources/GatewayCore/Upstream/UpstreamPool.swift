import GatewayConfig
import GatewayTLS
import NIOCore
import Synchronization

/// The keep-alive connections to one provider, bounded by `pool.max_connections`.
///
/// A request takes an idle connection, or opens a new one while under the bound, or waits for one to come back.
/// A request is never retried on another connection once its bytes went out: `send` submits it exactly once.
final class UpstreamPool: Sendable {
    let provider: ProviderSettings
    private let tls: TLSContext?
    private let group: any EventLoopGroup

    private struct State {
        var idle: [UpstreamConnection] = []
        var open = 0
        var waiters: [CheckedContinuation<UpstreamConnection?, Never>] = []
        var closed = false
    }
    private let state = Mutex(State())

    init(provider: ProviderSettings, tls: TLSContext?, group: any EventLoopGroup) {
        self.provider = provider
        self.tls = tls
        self.group = group
    }

    /// Sends `exchange` on a verified connection. Returns once the request is handed over; the response arrives
    /// on `exchange.response`.
    /// - Throws: `GatewayError` when no connection could be made (nothing was sent).
    func send(_ exchange: UpstreamExchange) async throws(GatewayError) {
        let connection = try await self.acquire()
        connection.submit(exchange)
    }

    private enum Acquisition {
        case reuse(UpstreamConnection)
        case open
        case wait
        case closed
    }

    private func acquire() async throws(GatewayError) -> UpstreamConnection {
        while true {
            let next: Acquisition = self.state.withLock { state in
                if state.closed { return .closed }
                while let connection = state.idle.popLast() {
                    if connection.isActive { return .reuse(connection) }
                    state.open -= 1
                }
                if state.open < self.provider.pool.maxConnections {
                    state.open += 1
                    return .open
                }
                return .wait
            }
            switch next {
            case .reuse(let connection):
                return connection
            case .closed:
                throw GatewayError(.shuttingDown, "The gateway is shutting down")
            case .open:
                do {
                    return try await UpstreamConnection.connect(
                        provider: self.provider, tls: self.tls, group: self.group
                    ) { [weak self] connection, reusable in self?.release(connection, reusable: reusable) }
                } catch {
                    self.release(nil, reusable: false)
                    throw error
                }
            case .wait:
                if let handedOver = await withCheckedContinuation({ continuation in
                    // Re-checked under the lock: a connection released since `.wait` was decided would otherwise
                    // sit idle while this waiter waits for a release that may never come.
                    let retry = self.state.withLock { state in
                        if state.closed || !state.idle.isEmpty || state.open < self.provider.pool.maxConnections {
                            return true
                        }
                        state.waiters.append(continuation)
                        return false
                    }
                    if retry { continuation.resume(returning: nil) }
                }) {
                    return handedOver
                }
            // nil: a slot freed up; loop and open or reuse.
            }
        }
    }

    /// Returns a connection after an exchange, or accounts for one that closed (`connection` nil or not reusable).
    /// A waiting request gets the connection itself, or (when it closed) the freed slot to open a new one.
    private func release(_ connection: UpstreamConnection?, reusable: Bool) {
        let (waiter, handOver): (CheckedContinuation<UpstreamConnection?, Never>?, UpstreamConnection?) =
            self.state.withLock { state in
                let waiter = state.waiters.isEmpty ? nil : state.waiters.removeFirst()
                if reusable, let connection, !state.closed {
                    if waiter == nil { state.idle.append(connection) }
                    return (waiter, connection)
                }
                state.open -= 1
                return (waiter, nil)
            }
        if reusable, state.withLock({ $0.closed }) { connection?.close() }
        waiter?.resume(returning: handOver)
    }

    /// Closes idle connections and refuses new requests; in-flight exchanges finish on their own.
    func shutdown() {
        let (idle, waiters) = self.state.withLock { state in
            state.closed = true
            defer {
                state.idle.removeAll()
                state.waiters.removeAll()
            }
            return (state.idle, state.waiters)
        }
        idle.forEach { $0.close() }
        waiters.forEach { $0.resume(returning: nil) }
    }
}
