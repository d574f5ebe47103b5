import AsyncAlgorithms
import NIOCore
import NIOHTTP1
import Synchronization

/// One request handed to an upstream connection, and its response flowing back in batches of parts.
///
/// A small response with a `Content-Length` arrives as one batch (head, body, end), so the caller gets it in one
/// write; a streamed response arrives part by part, each flushed as it comes. The response travels through an
/// `AsyncThrowingChannel`, whose `send` suspends until the caller's task has taken the batch: the vendor is read only as fast as the caller is written to, so a slow caller never makes the gateway
/// buffer a whole stream. `cancel()` (the caller went away) wakes a suspended sender; the connection then closes,
/// which cancels the vendor's work.
final class UpstreamExchange: Sendable {
    let head: HTTPRequestHead
    let body: ByteBuffer
    let response = AsyncThrowingChannel<[HTTPClientResponsePart], any Error>()
    private let cancelled = Atomic<Bool>(false)
    /// What cancelling does to the connection, and whether the connection is already done with this exchange (it
    /// may then serve another, which a late cancel must not close).
    private let lifecycle = Mutex<(onCancel: (@Sendable () -> Void)?, connectionDone: Bool)>((nil, false))

    init(head: HTTPRequestHead, body: ByteBuffer) {
        self.head = head
        self.body = body
    }

    var isCancelled: Bool { self.cancelled.load(ordering: .acquiring) }

    /// Stops the exchange: the upstream connection is closed rather than reused.
    func cancel() {
        guard !self.cancelled.exchange(true, ordering: .acquiringAndReleasing) else { return }
        self.response.finish()
        self.lifecycle.withLock { $0.connectionDone ? nil : $0.onCancel }?()
    }

    /// Registers what cancelling must do to the connection serving this exchange.
    func whenCancelled(_ action: @escaping @Sendable () -> Void) {
        self.lifecycle.withLock { $0.onCancel = action }
        if self.isCancelled { action() }
    }

    /// The connection has relayed the whole response and is about to serve others: from now on cancelling this
    /// exchange (its caller leaving after the response) must not close it. Returns false when the exchange was
    /// cancelled first; the connection must then not be reused.
    func connectionDone() -> Bool {
        self.lifecycle.withLock { state in
            if self.isCancelled { return false }
            state.connectionDone = true
            return true
        }
    }
}
