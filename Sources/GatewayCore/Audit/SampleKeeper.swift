import Dispatch
import GatewayAudit
import NIOCore
import Synchronization

/// Stores sampled bodies (`review.sampling`) off the request path: the record says `sampled` as soon as it is
/// written, and the body follows on this keeper's own queue, so a sampled request waits for no extra fsync.
///
/// Bounded: at most `maximumPendingBytes` wait to be written. Past it a sample is dropped, counted in
/// `gateway_limit_hits_total{limit="review_sample_backlog"}`, and its record's `sampled` is then a sample that was
/// not kept (reports count kept samples from the store, not from records).
final class SampleKeeper: Sendable {
    static let defaultMaximumPendingBytes = 64 << 20
    private let store: any ReviewStore
    private let queue = DispatchQueue(label: "gateway.review-samples", qos: .utility)
    private let pendingBytes = Mutex(0)
    private let maximumPendingBytes: Int
    private let limits: LimitCounters?

    init(store: any ReviewStore, limits: LimitCounters?, maximumPendingBytes: Int = SampleKeeper.defaultMaximumPendingBytes) {
        self.store = store
        self.limits = limits
        self.maximumPendingBytes = maximumPendingBytes
    }

    /// Queues `body` to be kept under `recordID`; false (and counted) when the backlog is full.
    @discardableResult
    func keep(_ body: ByteBuffer, recordID: RecordID, sender: Sender) -> Bool {
        let size = body.readableBytes
        let admitted = self.pendingBytes.withLock { pending in
            guard pending + size <= self.maximumPendingBytes else { return false }
            pending += size
            return true
        }
        guard admitted else {
            self.limits?.hit(.reviewSampleBacklog)
            return false
        }
        self.queue.async {
            _ = try? self.store.keep(
                body: Array(body.readableBytesView), recordID: recordID, sender: sender, purpose: .sample, reasons: nil)
            self.pendingBytes.withLock { $0 -= size }
        }
        return true
    }

    /// Waits until every queued sample is written (shutdown, tests).
    func drain() { self.queue.sync {} }
}
