import GatewayCrypto

/// The writer's state, guarded by the log's lock.
struct WriterState: ~Copyable {
    /// Only touched on the I/O queue (or under the lock to hand it there).
    var file: SegmentFile?
    /// Chain state including queued lines / as of the last successful fsync.
    var head: ChainState
    var durable: ChainState
    var segmentOpenedAt: ContinuousClock.Instant = .now
    var pending: [PendingLine] = []
    var flushing = false
    /// A queued line needs a batch (appended with `.now` or `.withPass`); outcomes alone do not start one.
    var batchNeeded = false
    /// Outcomes gathered for the next batch's `outcomes` line (`AuditLog.appendOutcome`).
    var outcomes: [RequestOutcome] = []
    /// When the oldest of `outcomes` arrived (nil when there are none): the deferred write is due a
    /// `deferredWriteDelay` after it.
    var outcomesSince: ContinuousClock.Instant?
    /// A timer will write outcomes that no batch took along.
    var deferredWriteScheduled = false
    var recovering = false
    var closed = false
    var batches = 0
    /// The MAC and hash contexts lines are sealed with; used only under the lock.
    let sealing: LineSealing

    init(file: SegmentFile, head: ChainState, sealing: LineSealing) {
        self.file = file
        self.head = head
        self.durable = head
        self.sealing = sealing
    }

    mutating func enqueue(_ line: PendingLine) {
        self.pending.append(line)
        self.head.seq = line.receipt.seq
        self.head.hash = line.receipt.hash
        self.head.segmentLines += 1
        self.head.segmentBytes += line.bytes.count
        self.head.segmentClosed = false
    }

    /// The durable state after `batch`: `target` when nothing was queued behind it, else recomputed from the batch.
    func stateAfter(batch: [PendingLine], target: ChainState) -> ChainState {
        guard !self.pending.isEmpty, let last = batch.last else { return target }
        var state = self.durable
        for line in batch {
            if line.segment != state.segment {
                state.segment = line.segment
                state.segmentLines = 0
                state.segmentBytes = 0
            }
            state.segmentLines += 1
            state.segmentBytes += line.bytes.count
            state.segmentClosed = line.head != nil
        }
        state.seq = last.receipt.seq
        state.hash = last.receipt.hash
        return state
    }
}

/// A line queued for the next batch.
struct PendingLine: Sendable {
    let bytes: [UInt8]
    let segment: Int
    let head: HeadCheckpoint?
    let waiter: AuditLog.Completion?
    let receipt: AppendReceipt

    /// What the I/O queue writes for this line.
    var step: WriteStep { WriteStep(bytes: self.bytes, segment: self.segment, head: self.head) }
}

/// The contexts the log seals its lines with: the line's MAC and the SHA-256 that chains the next line to it. Made
/// once per log and reused for every line, so sealing allocates no OpenSSL contexts; not thread-safe, so it lives in
/// the state the log's lock guards.
final class LineSealing {
    let mac: SerialHMAC
    let hash = SerialSHA256()

    init(key: HMACKey) { self.mac = SerialHMAC(key: key) }
}
