import Dispatch
import Foundation
import GatewayCrypto
import Synchronization

/// The tamper-evident, durable decision log: JSON Lines segments, hash-chained and HMACed (see `LogEntry`).
///
/// Contracts:
/// - An append completes only after the line is written **and fsynced**. Concurrent appends share one write and
///   one fsync per batch (group commit); a batch forms while the previous fsync runs. With
///   `AuditLogConfiguration.syncInterval` (opt-in), an append completes once written, and an fsync follows within
///   the interval.
/// - Lines are sealed and chained in the order appends are entered (queued under the log's lock, sealed by the I/O
///   queue as their batch forms); receipts carry `seq` and the line's hash.
/// - On any write or fsync failure, every append of that batch (and any queued behind it) fails with `AuditError`,
///   the log turns unhealthy (`isHealthy == false`), later appends fail with `.unavailable` at once, and the I/O
///   queue tries every `recoveryInterval` to cut the segment back to the last durable line, close it with a
///   `recovered` checkpoint and continue in a new segment. The failed descriptor is never fsynced again.
/// - Segments rotate by size and age; a closed segment ends with a checkpoint line, and `HEAD` names the newest
///   checkpoint. `close()` writes a `shutdown` checkpoint.
/// - One writer per directory (an exclusive `flock` on `.writer.lock`).
///
/// An append only queues its payload under a short lock; the I/O queue seals, writes and syncs each batch and
/// hands completions back from there: no task or actor hop per record, and no sealing on the caller's thread, which
/// matters at one or two records per proxied request. The `async` methods wrap the same path.
public final class AuditLog: Sendable {
    public typealias Completion = @Sendable (Result<AppendReceipt, AuditError>) -> Void

    public let configuration: AuditLogConfiguration
    /// What start-up found (torn tail set aside, segment recovered).
    public let startup: StartupReport

    private let key: KeyFile
    private let io = DispatchQueue(label: "gateway.audit.io")
    /// Writes batches; used only on `io`.
    private let writer: IOContext
    /// Seals lines and owns the chain and the open segment; used only on `io`.
    private let chain: ChainWriter
    private let lockDescriptor: Int32
    private let state: Mutex<WriterState>
    private let healthy = Atomic<Bool>(true)
    /// `audit.sync: interval`: whether an fsync is due (set and cleared on `io`; atomic to keep the class Sendable).
    private let syncPending = Atomic<Bool>(false)
    /// Interval fsyncs done (tests; the batches' own fsyncs are counted in `batches`).
    private let syncs = Atomic<Int>(0)

    /// Fsyncs run by `audit.sync: interval`, after the batches they cover were written.
    public var intervalSyncs: Int { self.syncs.load(ordering: .relaxed) }

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
        self.chain = ChainWriter(file: file, head: state, key: key, configuration: configuration)
        self.state = Mutex(WriterState())
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

    /// Appends `payload`; `completion` runs on the log's I/O queue once the line is durable, or with the failure
    /// (also when the payload cannot be encoded).
    public func append(_ payload: AuditPayload, flush: Flush = .now, completion: Completion?) {
        self.enqueue(.payload(payload), flush: flush, completion: completion)
    }

    /// Appends the decision record `make` returns, called on the log's I/O queue as the line's batch is sealed: the
    /// caller (an event loop) only queues the closure, and the record's labels are cleaned and its time formatted
    /// off its thread. `make` must only read what it captured.
    public func append(
        recordMadeBy make: @escaping @Sendable () -> DecisionRecord, flush: Flush = .now, completion: Completion?
    ) {
        self.enqueue(.record(make), flush: flush, completion: completion)
    }

    private func enqueue(_ content: QueuedLine.Content, flush: Flush, completion: Completion?) {
        let outcome: Result<NextStep, AuditError> = self.state.withLock { state in
            guard !state.closed else { return .failure(.closed) }
            guard self.isHealthy, !state.recovering else { return .failure(.unavailable) }
            state.queued.append(QueuedLine(content: content, waiter: completion))
            state.batchNeeded = true
            guard flush == .now, !state.flushing else { return .success(.none) }
            state.flushing = true
            return .success(.start)
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
            return state.gather(outcome, now: .now)
        }
        if schedule { self.scheduleDeferredWrite(after: self.configuration.deferredWriteDelay) }
    }

    /// Writes outcomes that no batch has taken along within `deferredWriteDelay` of the oldest one's arrival.
    ///
    /// Under load a batch of records takes the outcomes along every few milliseconds, so the timer finds outcomes
    /// younger than the delay and only re-arms for them: it never starts a write (and an fsync) of its own while
    /// records are flowing. When the delay has passed and a write is under way, that write takes them next.
    private func scheduleDeferredWrite(after delay: Duration) {
        self.io.asyncAfter(deadline: .now() + .nanoseconds(delay.wholeNanoseconds)) {
            let next = self.state.withLock { state in
                state.deferredWriteFired(now: .now, delay: self.configuration.deferredWriteDelay)
            }
            switch next {
            case .write: self.flushQueued()
            case .wait(let remaining): self.scheduleDeferredWrite(after: remaining)
            case .nothing: break
            }
        }
    }

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

    /// Appends a configuration event (a reload applied or refused) durably.
    @discardableResult
    public func append(_ config: ConfigEvent) async throws(AuditError) -> AppendReceipt {
        try await self.append(payload: .config(config))
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
            guard !state.flushing, state.batchNeeded, !state.queued.isEmpty, !state.closed else { return false }
            state.flushing = true
            return true
        }
        if start { self.io.async { self.flushQueued() } }
    }

    // MARK: - The I/O queue

    /// Seals and writes queued lines in batches, one fsync per batch, until none are left. On the I/O queue.
    private func flushQueued() {
        while true {
            let queued: [QueuedLine]? = self.state.withLock { state in
                // Outcomes alone wait for the next batch or their timer; nothing is taken while the log is broken.
                guard state.batchNeeded, self.chain.file != nil else {
                    state.flushing = false
                    return nil
                }
                state.batchNeeded = false
                return state.takeBatch()
            }
            guard let queued, let file = self.chain.file else { return }
            let batch = self.chain.seal(queued)
            guard !batch.isEmpty else { continue }
            do throws(AuditError) {
                let started = ContinuousClock.now
                let interval = self.configuration.syncInterval
                self.chain.file = try self.writer.perform(batch.map(\.step), file: file, syncAtEnd: interval == nil)
                if let interval {
                    self.scheduleSync(after: interval)
                } else {
                    self.chain.batchIsDurable()
                }
                self.state.withLock { $0.batches += 1 }
                self.configuration.batchWritten?(batch.count, ContinuousClock.now - started)
                for line in batch { line.waiter?(.success(line.receipt)) }
                self.chain.file?.reserveAhead()
            } catch {
                self.fail(batch, with: error)
            }
        }
    }

    /// `audit.sync: interval`: fsyncs what was written within `interval`, once, however many batches came in
    /// between. On the I/O queue. A failed fsync breaks the log like a failed write (503 until it recovers).
    private func scheduleSync(after interval: Duration) {
        guard !self.syncPending.exchange(true, ordering: .relaxed) else { return }
        self.io.asyncAfter(deadline: .now() + .nanoseconds(interval.wholeNanoseconds)) {
            self.syncPending.store(false, ordering: .relaxed)
            guard let file = self.chain.file else { return }
            do throws(AuditError) {
                try file.sync()
                self.chain.batchIsDurable()
                self.syncs.add(1, ordering: .relaxed)
            } catch {
                self.fail([], with: error)
            }
        }
    }

    /// A batch failed: it and everything queued behind it fail, and the log stays unhealthy until recovery.
    private func fail(_ batch: [PendingLine], with error: AuditError) {
        self.chain.file?.closeFile()
        self.chain.file = nil
        self.chain.rewindToDurable()
        let queued: [QueuedLine] = self.state.withLock { state in
            state.batchNeeded = false
            defer { state.queued.removeAll() }
            return state.queued
        }
        self.healthy.store(false, ordering: .releasing)
        for line in batch { line.waiter?(.failure(error)) }
        for line in queued { line.waiter?(.failure(error)) }
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
        let due: Bool = self.state.withLock { state in
            guard !self.isHealthy, !state.closed else { return false }
            state.recovering = true
            return true
        }
        guard due else { return self.isHealthy }
        let recovery = Recovery(directory: self.configuration.directory, key: self.key, faults: self.configuration.faults)
        let resumed = try? recovery.resume(from: self.chain.durable)
        if let (file, recovered) = resumed { self.chain.resume(in: file, at: recovered) }
        self.state.withLock { $0.recovering = false }
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
            let queued: [QueuedLine]? = self.state.withLock { state in
                guard !state.closed else { return nil }
                state.closed = true
                return state.takeBatch()
            }
            guard let queued else { return .success(()) }
            defer {
                self.chain.file?.closeFile()
                self.chain.file = nil
                WriterLock.release(self.lockDescriptor)
            }
            guard self.isHealthy, let open = self.chain.file else {
                for line in queued { line.waiter?(.failure(.closed)) }
                return .success(())
            }
            // Lines appended without a flush of their own, the gathered outcomes, then the shutdown checkpoint.
            var batch = self.chain.seal(queued)
            do throws(AuditError) {
                try self.chain.checkpoint(reason: .shutdown, into: &batch)
                _ = try self.writer.perform(batch.map(\.step), file: open, closing: true)
                self.chain.batchIsDurable()
                for line in batch { line.waiter?(.success(line.receipt)) }
                return .success(())
            } catch {
                for line in batch { line.waiter?(.failure(error)) }
                return .failure(error)
            }
        }
        try result.get()
    }

    /// Stops without a checkpoint, as a killed process would (tests of start-up recovery).
    func abandonForTesting() async {
        await self.onIOQueue {
            self.state.withLock { $0.closed = true }
            self.chain.file?.closeFile()
            self.chain.file = nil
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
