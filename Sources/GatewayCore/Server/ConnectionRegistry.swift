import NIOCore
import Synchronization

/// The open caller connections, so shutdown can tell each to finish: idle ones close at once, busy ones after their
/// current request, and whatever is left when the drain time is up is closed.
///
/// Only opening and closing a connection touch the registry; a request does not (each connection knows whether it
/// is busy, and learns of the drain through `DrainRequested`).
final class ConnectionRegistry: Sendable {
    private struct State {
        var channels: [ObjectIdentifier: any Channel] = [:]
        var emptyWaiters: [CheckedContinuation<Void, Never>] = []
    }
    private let state = Mutex(State())
    private let draining = Atomic<Bool>(false)
    /// Connections accepted and not yet closed, counted at accept (before `opened`), for the connection cap.
    private let admitted = Atomic<Int>(0)

    /// Takes one of `cap` connection slots at accept; false when all are taken (the connection is then closed at
    /// once). A slot taken is given back by `releaseSlot` when the connection closes.
    func takeSlot(cap: Int) -> Bool {
        let now = self.admitted.wrappingAdd(1, ordering: .relaxed).newValue
        guard now <= cap else {
            self.admitted.wrappingSubtract(1, ordering: .relaxed)
            return false
        }
        return true
    }

    func releaseSlot() { self.admitted.wrappingSubtract(1, ordering: .relaxed) }

    var isDraining: Bool { self.draining.load(ordering: .relaxed) }
    var count: Int { self.state.withLock { $0.channels.count } }

    func opened(_ channel: any Channel) {
        self.state.withLock { $0.channels[ObjectIdentifier(channel)] = channel }
    }

    func closed(_ channel: any Channel) {
        let waiters = self.state.withLock { state in
            state.channels.removeValue(forKey: ObjectIdentifier(channel))
            guard state.channels.isEmpty else { return [CheckedContinuation<Void, Never>]() }
            defer { state.emptyWaiters.removeAll() }
            return state.emptyWaiters
        }
        waiters.forEach { $0.resume() }
    }

    /// Returns once no connection is open.
    func waitUntilEmpty() async {
        await withCheckedContinuation { continuation in
            let empty = self.state.withLock { state in
                if state.channels.isEmpty { return true }
                state.emptyWaiters.append(continuation)
                return false
            }
            if empty { continuation.resume() }
        }
    }

    /// Starts draining: every connection is told (`DrainRequested`); an idle one closes, a busy one closes after
    /// its current response.
    func drain() {
        self.draining.store(true, ordering: .relaxed)
        let all = self.state.withLock { Array($0.channels.values) }
        for channel in all { channel.pipeline.fireUserInboundEventTriggered(DrainRequested()) }
    }

    /// The drain time is up: close everything.
    func closeAll() {
        let all = self.state.withLock { Array($0.channels.values) }
        all.forEach { $0.close(promise: nil) }
    }
}

/// Sent through a caller connection's pipeline when the gateway starts draining.
struct DrainRequested: Sendable {}
