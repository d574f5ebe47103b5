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
    private let onCancel = Mutex<(@Sendable () -> Void)?>(nil)

    init(head: HTTPRequestHead, body: ByteBuffer) {
        self.head = head
        self.body = body
    }

    var isCancelled: Bool { self.cancelled.load(ordering: .acquiring) }

    /// Stops the exchange: the upstream connection is closed rather than reused.
    func cancel() {
        guard !self.cancelled.exchange(true, ordering: .acquiringAndReleasing) else { return }
        self.response.finish()
        self.onCancel.withLock { $0 }?()
    }

    /// Registers what cancelling must do to the connection serving this exchange.
    func whenCancelled(_ action: @escaping @Sendable () -> Void) {
        self.onCancel.withLock { $0 = action }
        if self.isCancelled { action() }
    }
}
