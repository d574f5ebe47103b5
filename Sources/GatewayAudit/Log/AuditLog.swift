import Dispatch
import Foundation
import GatewayCrypto
import Synchronization

/// The tamper-evident, durable decision log: JSON Lines segments, hash-chained and HMACed (see `LogEntry`).
///
/// Contracts:
/// - An append completes only after the line is written **and fsynced**. Concurrent appends share one write and
///   one fsync per batch (group commit); a batch forms while the previous fsync runs.
/// - Lines are sealed and chained in the order appends are entered (under the log's lock); receipts carry `seq` and
///   the line's hash.
/// - On any write or fsync failure, every append of that batch (and any queued behind it) fails with `AuditError`,
///   the log turns unhealthy (`isHealthy == false`), later appends fail with `.unavailable` at once, and the I/O
///   queue tries every `recoveryInterval` to cut the segment back to the last durable line, close it with a
///   `recovered` checkpoint and continue in a new segment. The failed descriptor is never fsynced again.
/// - Segments rotate by size and age; a closed segment ends with a checkpoint line, and `HEAD` names the newest
///   checkpoint. `close()` writes a `shutdown` checkpoint.
/// - One writer per directory (an exclusive `flock` on `.writer.lock`).
///
/// Appends take a lock for sealing and hand completions back from the log's own I/O queue: no task or actor hop
/// per record, which matters at one or two records per proxied request. The `async` methods wrap the same path.
public final class AuditLog: Sendable {
    public typealias Completion = @Sendable (Result<AppendReceipt, AuditError>) -> Void

    public let configuration: AuditLogConfiguration
    /// What start-up found (torn tail set aside, segment recovered).
    public let startup: StartupReport

    private let key: KeyFile
    private let io = DispatchQueue(label: "gateway.audit.io")
    /// Writes batches; used only on `io`.
    private let writer: IOContext
    private let lockDescriptor: Int32
    private let state: Mutex<WriterState>
    private let healthy = Atomic<Bool>(true)

    /// Opens (creating if needed) the log in `configuration.directory`: takes the writer lock, loads or creates the
    /// key, repairs a torn tail and opens a fresh segment.
    public static func open(_ configuration: AuditLogConfiguration) async throws(AuditError) -> AuditLog {
        guard !AuditLocation.isInside(configuration.keyFile, configuration.directory) else {
            throw .keyFile(path: configuration.keyFile, detail: "must be outside the log directory")
        }
        try FileOps.makeDirectory(configuration.directory)
        let key = try KeyFile.loadOrCreate(path: configuration.keyFile)
        let lock = try WriterLock.acquire(directory: configuration.directory)
        let recovery = Recovery(directory: configuration.directory, key: key, faults: configuration.faults)
        do {
            let (file, state, report) = try recovery.start()
            return AuditLog(configuration: configuration, key: key, lock: lock, file: file, state: state, report: report)
        } catch {
            WriterLock.release(lock)
            throw error
        }
    }

    private init(
        configuration: AuditLogConfiguration, key: KeyFile, lock: Int32, file: SegmentFile, state: ChainState,
        report: StartupReport
    ) {
        self.configuration = configuration
        self.key = key
        self.lockDescriptor = lock
        self.startup = report
        self.writer = IOContext(directory: configuration.directory, key: key, faults: configuration.faults)
        self.state = Mutex(WriterState(file: file, head: state, sealing: LineSealing(key: key.mac)))
    }

    /// False after a write or fsync failure until the log has recovered. The gateway answers 503 and `/readyz` fails
    /// while it is false. Safe to read from any thread.
    public var isHealthy: Bool { self.healthy.load(ordering: .acquiring) }

    /// The key id MACing this log's lines.
    public var keyID: String { self.key.keyID }

    /// Batches written (one write and one fsync each); fewer than appends under concurrency. Lines per batch is
    /// what the group commit achieves (`bench/audit-bench` prints it).
    public var batches: Int { self.state.withLock { $0.batches } }

    // MARK: - Appending

    /// When a queued line's batch is written.
    public enum Flush: Sendable {
        /// Start the write now (unless one is under way: the line is in the next batch).
        case now
        /// The caller calls `flushQueuedLines()` shortly itself. An event loop appends every request it read in one
        /// pass and then starts one write for all of them: the group commit then follows the loop's own batching
        /// instead of waking the I/O queue for the first line of each pass.
        case withPass
    }

    /// Appends `payload`; `completion` runs on the log's I/O queue once the line is durable, or with the failure.
    public func append(_ payload: AuditPayload, flush: Flush = .now, completion: Completion?) {
        let outcome: Result<NextStep, AuditError> = self.state.withLock { state in
            guard !state.closed else { return .failure(.closed) }
            guard self.isHealthy, !state.recovering else { return .failure(.unavailable) }
            do throws(AuditError) {
                try self.sealAndEnqueue(payload, waiter: completion, state: &state)
                switch flush {
                case .withPass:
                    state.batchNeeded = true
                    return .success(.none)
                case .now:
                    state.batchNeeded = true
                    guard !state.flushing else { return .success(.none) }
                    state.flushing = true
                    return .success(.start)
                }
            } catch {
                return .failure(error)
            }
        }
        switch outcome {
        case .success(.start): self.io.async { self.flushQueued() }
        case .success(.none): break
        case .failure(let error): completion?(.failure(error))
        }
    }

    private enum NextStep { case start, none }

    /// Queues the outcome of a forwarded request. Nobody waits for it: outcomes are gathered and written as one
    /// `outcomes` line with the next batch of records, or by themselves within `configuration.deferredWriteDelay`.
    /// One line for many outcomes seals, chains and MACs once instead of once per request; and at one connection
    /// the outcome costs no fsync of its own. A crash inside that window can lose outcomes, never a record. Dropped
    /// while the log is unhealthy or closed (the request was refused, or already recorded).
    public func appendOutcome(_ outcome: RequestOutcome) {
        let schedule = self.state.withLock { state in
            guard !state.closed, self.isHealthy, !state.recovering else { return false }
            if state.outcomes.isEmpty { state.outcomesSince = .now }
            state.outcomes.append(outcome)
            guard !state.deferredWriteScheduled else { return false }
            state.deferredWriteScheduled = true
            return true
        }
        if schedule { self.scheduleDeferredWrite(after: self.configuration.deferredWriteDelay) }
    }

    /// Seals `payload` as the next line (after closing the segment with a checkpoint when it is due) and queues it.
    private func sealAndEnqueue(
        _ payload: AuditPayload, waiter: Completion?, state: inout WriterState
    ) throws(AuditError) {
        let ageLimitReached = ContinuousClock.now - state.segmentOpenedAt >= self.configuration.maxSegmentAge
        if state.head.segmentLines > 0, ageLimitReached || state.head.segmentBytes >= self.configuration.maxSegmentBytes {
            try self.enqueueCheckpoint(reason: .rotate, state: &state)
        }
        let (bytes, receipt) = try self.seal(payload, after: state.head, using: state.sealing)
        state.enqueue(PendingLine(bytes: bytes, segment: state.head.segment, head: nil, waiter: waiter, receipt: receipt))
    }

    /// Turns the gathered outcomes into one queued line (under the lock, as a batch forms).
    private func enqueueOutcomes(state: inout WriterState) {
        guard !state.outcomes.isEmpty else { return }
        defer {
            state.outcomes.removeAll(keepingCapacity: true)
            state.outcomesSince = nil
        }
        // Outcomes are written by CanonicalJSON, which cannot fail; a failure would only lose these outcomes.
        try? self.sealAndEnqueue(.outcomes(state.outcomes), waiter: nil, state: &state)
    }

    /// Writes outcomes that no batch has taken along within `deferredWriteDelay` of the oldest one's arrival.
    ///
    /// Under load a batch of records takes the outcomes along every few milliseconds, so the timer finds outcomes
    /// younger than the delay and only re-arms for them: it never starts a write (and an fsync) of its own while
    /// records are flowing. When the delay has passed and a write is under way, that write takes them next.
    private func scheduleDeferredWrite(after delay: Duration) {
        self.io.asyncAfter(deadline: .now() + .nanoseconds(delay.wholeNanoseconds)) {
            let next: DeferredStep = self.state.withLock { state in
                state.deferredWriteScheduled = false
                guard !state.closed, let since = state.outcomesSince else { return .nothing }
                let waited = ContinuousClock.now - since
                if waited < self.configuration.deferredWriteDelay {
                    state.deferredWriteScheduled = true
                    return .wait(self.configuration.deferredWriteDelay - waited)
                }
                state.batchNeeded = true
                guard !state.flushing else { return .nothing }
                state.flushing = true
                return .write
            }
            switch next {
            case .write: self.flushQueued()
            case .wait(let remaining): self.scheduleDeferredWrite(after: remaining)
            case .nothing: break
            }
        }
    }

    private enum DeferredStep { case write, wait(Duration), nothing }

    /// Appends a decision record durably.
    @discardableResult
    public func append(_ record: DecisionRecord) async throws(AuditError) -> AppendReceipt {
        try await self.append(payload: .record(record))
    }

    /// Appends a reviewer's action durably.
    @discardableResult
    public func append(_ review: ReviewEvent) async throws(AuditError) -> AppendReceipt {
        try await self.append(payload: .review(review))
    }

    private func append(payload: AuditPayload) async throws(AuditError) -> AppendReceipt {
        let result = await withCheckedContinuation { continuation in
            self.append(payload, flush: .now, completion: { continuation.resume(returning: $0) })
        }
        return try result.get()
    }

    /// Starts writing queued lines unless a write is already under way (it takes them when it is done). Gathered
    /// outcomes alone start nothing (see `appendOutcome`).
    public func flushQueuedLines() {
        let start = self.state.withLock { state in
            guard !state.flushing, state.batchNeeded, !state.pending.isEmpty, !state.closed else { return false }
            state.flushing = true
            return true
        }
        if start { self.io.async { self.flushQueued() } }
    }

    /// Seals `payload` as the line after `head`. Under the lock, which `sealing` needs.
    private func seal(
        _ payload: AuditPayload, after head: ChainState, using sealing: LineSealing
    ) throws(AuditError) -> ([UInt8], AppendReceipt) {
        let entry = LogEntry(seq: head.seq + 1, prev: head.hash, kid: self.key.keyID, payload: payload)
        var line = CanonicalJSON()
        try entry.write(to: &line)
        Sealing.seal(&line, mac: sealing.mac)
        let hash = Crypto.hex(line.withBytes { sealing.hash.digest($0) })  // of the line without its newline
        line.append(UInt8(ascii: "\n"))
        return (line.bytes, AppendReceipt(seq: entry.seq, hash: hash))
    }

    /// Queues a checkpoint closing the current segment; the next line goes to a new segment.
    private func enqueueCheckpoint(reason: Checkpoint.Reason, state: inout WriterState) throws(AuditError) {
        let time = UTCTime.format(milliseconds: UTCTime.nowMilliseconds())
        let checkpoint = Checkpoint(
            segment: state.head.segment, count: state.head.segmentLines, lastHash: state.head.hash, time: time, reason: reason
        )
        let (bytes, receipt) = try self.seal(.checkpoint(checkpoint), after: state.head, using: state.sealing)
        let headFile = HeadCheckpoint(seq: receipt.seq, hash: receipt.hash, segment: state.head.segment, time: time, kid: self.key.keyID)
        state.enqueue(PendingLine(bytes: bytes, segment: state.head.segment, head: headFile, waiter: nil, receipt: receipt))
        state.head.segmentClosed = true
        if reason == .rotate {
            state.head.segment += 1
            state.head.segmentLines = 0
            state.head.segmentBytes = 0
            state.head.segmentClosed = false
            state.segmentOpenedAt = .now
        }
    }

    // MARK: - The I/O queue

    /// Writes queued lines in batches, one fsync per batch, until none are left. On the I/O queue.
    private func flushQueued() {
        while true {
            let next: (batch: [PendingLine], file: SegmentFile, target: ChainState)? = self.state.withLock { state in
                // Outcomes alone wait for the next batch or their timer.
                guard state.batchNeeded, let file = state.file else {
                    state.flushing = false
                    return nil
                }
                self.enqueueOutcomes(state: &state)
                guard !state.pending.isEmpty else {
                    state.flushing = false
                    return nil
                }
                defer {
                    state.pending.removeAll()
                    state.batchNeeded = false
                }
                return (state.pending, file, state.head)
            }
            guard let next else { return }
            do throws(AuditError) {
                let file = try self.writer.perform(next.batch.map(\.step), file: next.file)
                self.state.withLock { state in
                    state.file = file
                    state.batches += 1
                    state.durable = state.stateAfter(batch: next.batch, target: next.target)
                }
                for line in next.batch { line.waiter?(.success(line.receipt)) }
                file.reserveAhead()
            } catch {
                self.fail(next.batch, with: error)
            }
        }
    }

    private func fail(_ batch: [PendingLine], with error: AuditError) {
        let queued: [PendingLine] = self.state.withLock { state in
            defer { state.pending.removeAll() }
            state.file?.closeFile()
            state.file = nil
            state.head = state.durable
            state.batchNeeded = false
            return state.pending
        }
        self.healthy.store(false, ordering: .releasing)
        for line in batch + queued { line.waiter?(.failure(error)) }
        self.scheduleRecovery()
    }

    private func scheduleRecovery() {
        self.io.asyncAfter(deadline: .now() + .nanoseconds(self.configuration.recoveryInterval.wholeNanoseconds)) {
            guard !self.recoverOnQueue(), !self.state.withLock({ $0.closed }) else { return }
            self.scheduleRecovery()
        }
    }

    /// Tries once to recover from a write failure; returns whether the log is healthy. On the I/O queue.
    private func recoverOnQueue() -> Bool {
        let durable: ChainState? = self.state.withLock { state in
            guard !self.isHealthy, !state.closed else { return nil }
            state.recovering = true
            return state.durable
        }
        guard let durable else { return self.isHealthy }
        let recovery = Recovery(directory: self.configuration.directory, key: self.key, faults: self.configuration.faults)
        let resumed = try? recovery.resume(from: durable)
        self.state.withLock { state in
            state.recovering = false
            guard let (file, recovered) = resumed else { return }
            state.file = file
            state.head = recovered
            state.durable = recovered
            state.segmentOpenedAt = .now
        }
        if resumed != nil { self.healthy.store(true, ordering: .releasing) }
        return resumed != nil
    }

    /// Tries once to recover from a write failure; returns whether the log is healthy. Healthy logs return true at
    /// once. The I/O queue retries by itself; callers (a readiness probe, tests) may call it too.
    @discardableResult
    public func recover() async -> Bool {
        await self.onIOQueue { self.recoverOnQueue() }
    }

    // MARK: - Closing

    /// Writes a `shutdown` checkpoint (when healthy), updates HEAD and releases the writer lock. Appends after
    /// this fail with `.closed`.
    public func close() async throws(AuditError) {
        let result: Result<Void, AuditError> = await self.onIOQueue {
            // Queued after every flush already scheduled, so everything appended before `close` is on disk first.
            let file: SegmentFile?? = self.state.withLock { state in
                guard !state.closed else { return .none }
                state.closed = true
                return .some(state.file)
            }
            guard case .some(let open) = file else { return .success(()) }
            defer {
                self.state.withLock { state in
                    state.file?.closeFile()
                    state.file = nil
                }
                WriterLock.release(self.lockDescriptor)
            }
            guard self.isHealthy, let open else { return .success(()) }
            let steps: [WriteStep]
            do throws(AuditError) {
                steps = try self.state.withLock { state throws(AuditError) in
                    self.enqueueOutcomes(state: &state)
                    try self.enqueueCheckpoint(reason: .shutdown, state: &state)
                    defer { state.pending.removeAll() }
                    return state.pending.map(\.step)
                }
                _ = try self.writer.perform(steps, file: open, closing: true)
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        try result.get()
    }

    /// Stops without a checkpoint, as a killed process would (tests of start-up recovery).
    func abandonForTesting() async {
        await self.onIOQueue {
            self.state.withLock { state in
                state.closed = true
                state.file?.closeFile()
                state.file = nil
            }
            WriterLock.release(self.lockDescriptor)
        }
    }

    /// Runs `work` on the log's I/O queue, after everything queued before it.
    private func onIOQueue<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            self.io.async { continuation.resume(returning: work()) }
        }
    }
}
