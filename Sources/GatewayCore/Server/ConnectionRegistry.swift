import NIOCore
import Synchronization

/// The open caller connections, so shutdown can close the idle ones at once and the busy ones after their request
/// (or when the drain time is up).
final class ConnectionRegistry: Sendable {
    private struct Entry {
        let channel: any Channel
        var busy: Bool
    }
    private struct State {
        var entries: [ObjectIdentifier: Entry] = [:]
        var draining = false
        var emptyWaiters: [CheckedContinuation<Void, Never>] = []
    }
    private let state = Mutex(State())

    var isDraining: Bool { self.state.withLock { $0.draining } }
    var count: Int { self.state.withLock { $0.entries.count } }

    func opened(_ channel: any Channel) {
        self.state.withLock { $0.entries[ObjectIdentifier(channel)] = Entry(channel: channel, busy: false) }
    }

    func closed(_ channel: any Channel) {
        let waiters = self.state.withLock { state in
            state.entries.removeValue(forKey: ObjectIdentifier(channel))
            guard state.entries.isEmpty else { return [CheckedContinuation<Void, Never>]() }
            defer { state.emptyWaiters.removeAll() }
            return state.emptyWaiters
        }
        waiters.forEach { $0.resume() }
    }

    /// Returns once no connection is open.
    func waitUntilEmpty() async {
        await withCheckedContinuation { continuation in
            let empty = self.state.withLock { state in
                if state.entries.isEmpty { return true }
                state.emptyWaiters.append(continuation)
                return false
            }
            if empty { continuation.resume() }
        }
    }

    /// Marks a request in flight on `channel`.
    func requestStarted(on channel: any Channel) {
        self.state.withLock { $0.entries[ObjectIdentifier(channel)]?.busy = true }
    }

    /// Marks the request done; returns whether the connection should close now because the gateway is draining.
    func requestFinished(on channel: any Channel) -> Bool {
        self.state.withLock { state in
            state.entries[ObjectIdentifier(channel)]?.busy = false
            return state.draining
        }
    }

    /// Starts draining: idle connections close now; busy ones close after their current request.
    func drain() {
        let idle = self.state.withLock { state in
            state.draining = true
            return state.entries.values.filter { !$0.busy }.map(\.channel)
        }
        idle.forEach { $0.close(promise: nil) }
    }

    /// The drain time is up: close everything.
    func closeAll() {
        let all = self.state.withLock { $0.entries.values.map(\.channel) }
        all.forEach { $0.close(promise: nil) }
    }
}
