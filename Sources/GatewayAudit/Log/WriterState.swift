/// What callers and the I/O queue share, guarded by the log's lock: the payloads waiting for a batch, and the flags
/// that decide when one starts. The chain and the file are the I/O queue's alone (`ChainWriter`).
struct WriterState: ~Copyable {
    /// Appended payloads in the order they were entered: the order they are sealed and chained in.
    var queued: [QueuedLine] = []
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

    /// Gathers `outcome` for the next batch; true when the caller must arm the outcomes' timer.
    mutating func gather(_ outcome: RequestOutcome, now: ContinuousClock.Instant) -> Bool {
        if self.outcomes.isEmpty { self.outcomesSince = now }
        self.outcomes.append(outcome)
        guard !self.deferredWriteScheduled else { return false }
        self.deferredWriteScheduled = true
        return true
    }

    /// What the outcomes' timer does when it fires at `now`: nothing when no outcome waits (a batch took them);
    /// wait again when the oldest waiting outcome is younger than `delay` (re-armed, so while records flow the
    /// timer never writes); else a batch is needed, started here unless a write is under way (which takes it next).
    mutating func deferredWriteFired(now: ContinuousClock.Instant, delay: Duration) -> DeferredStep {
        self.deferredWriteScheduled = false
        guard !self.closed, let since = self.outcomesSince else { return .nothing }
        let waited = now - since
        if waited < delay {
            self.deferredWriteScheduled = true
            return .wait(delay - waited)
        }
        self.batchNeeded = true
        guard !self.flushing else { return .nothing }
        self.flushing = true
        return .write
    }

    /// Takes the queued payloads, and the gathered outcomes as one more payload after them.
    mutating func takeBatch() -> [QueuedLine] {
        var batch = self.queued
        self.queued.removeAll(keepingCapacity: true)
        if !self.outcomes.isEmpty {
            batch.append(QueuedLine(content: .payload(.outcomes(self.outcomes)), waiter: nil))
            self.outcomes.removeAll(keepingCapacity: true)
            self.outcomesSince = nil
        }
        return batch
    }
}

/// What the outcomes' timer does (`WriterState.deferredWriteFired`).
enum DeferredStep: Equatable {
    /// Start a batch for the outcomes now.
    case write
    /// Fire again after this long.
    case wait(Duration)
    case nothing
}

/// An appended payload waiting for the I/O queue to seal and write it.
struct QueuedLine: Sendable {
    let content: Content
    let waiter: AuditLog.Completion?

    enum Content: Sendable {
        case payload(AuditPayload)
        /// A decision record the I/O queue builds itself (`AuditLog.append(recordMadeBy:)`).
        case record(@Sendable () -> DecisionRecord)
    }

    /// The payload, built now when the caller left that to the I/O queue.
    var payload: AuditPayload {
        switch self.content {
        case .payload(let payload): payload
        case .record(let make): .record(make())
        }
    }
}

/// A sealed line of a batch being written.
struct PendingLine: Sendable {
    let bytes: [UInt8]
    let segment: Int
    let head: HeadCheckpoint?
    let waiter: AuditLog.Completion?
    let receipt: AppendReceipt

    /// What the I/O queue writes for this line.
    var step: WriteStep { WriteStep(bytes: self.bytes, segment: self.segment, head: self.head) }
}
