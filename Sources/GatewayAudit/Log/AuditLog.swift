import Dispatch
import Foundation
import GatewayCrypto
import Synchronization

/// The tamper-evident, durable decision log: JSON Lines segments, hash-chained and HMACed (see `LogEntry`).
///
/// Contracts:
/// - `append` returns only after the line is written **and fsynced**. Concurrent callers share one write and one
///   fsync per batch (group commit); a batch forms while the previous fsync runs.
/// - Lines are chained in the order `append` was entered on the actor; receipts carry `seq` and the line's hash.
/// - On any write or fsync failure, every caller of that batch (and any queued behind it) gets `AuditError`, the log
///   turns unhealthy (`isHealthy == false`), later appends throw `.unavailable` at once, and a background task tries
///   every `recoveryInterval` to cut the segment back to the last durable line, close it with a `recovered`
///   checkpoint and continue in a new segment. The failed descriptor is never fsynced again.
/// - Segments rotate by size and age; a closed segment ends with a checkpoint line, and `HEAD` names the newest
///   checkpoint. `close()` writes a `shutdown` checkpoint.
/// - One writer per directory (an exclusive `flock` on `.writer.lock`).
public actor AuditLog {
    public let configuration: AuditLogConfiguration
    /// What start-up found (torn tail set aside, segment recovered).
    public nonisolated let startup: StartupReport

    private let key: KeyFile
    private let health: HealthFlag
    private let io = DispatchQueue(label: "gateway.audit.io")
    private let lockDescriptor: Int32

    /// Chain state including queued lines / as of the last successful fsync.
    private var head: ChainState
    private var durable: ChainState
    private var segmentOpenedAt: ContinuousClock.Instant = .now
    private var file: SegmentFile?
    private var pending: [PendingLine] = []
    private var flushing = false
    private var idleWaiters: [CheckedContinuation<Void, Never>] = []
    private var recovering = false
    private var closed = false
    /// Batches written (one write and one fsync each); fewer than appends under concurrency.
    private(set) var batches = 0

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
        self.file = file
        self.head = state
        self.durable = state
        self.startup = report
        self.health = HealthFlag()
    }

    /// False after a write or fsync failure until the log has recovered. The gateway answers 503 and `/readyz` fails
    /// while it is false. Safe to read from any thread.
    public nonisolated var isHealthy: Bool { self.health.isHealthy }

    /// The key id MACing this log's lines.
    public nonisolated var keyID: String { self.key.keyID }

    /// Appends a decision record durably.
    @discardableResult
    public func append(_ record: DecisionRecord) async throws(AuditError) -> AppendReceipt {
        try await self.append(payload: .record(record))
    }

    /// Appends the outcome of a forwarded request durably.
    @discardableResult
    public func append(_ outcome: RequestOutcome) async throws(AuditError) -> AppendReceipt {
        try await self.append(payload: .outcome(outcome))
    }

    /// Appends a reviewer's action durably.
    @discardableResult
    public func append(_ review: ReviewEvent) async throws(AuditError) -> AppendReceipt {
        try await self.append(payload: .review(review))
    }

    private func append(payload: AuditPayload) async throws(AuditError) -> AppendReceipt {
        guard !self.closed else { throw .closed }
        guard self.health.isHealthy, !self.recovering else { throw .unavailable }
        let ageLimitReached = ContinuousClock.now - self.segmentOpenedAt >= self.configuration.maxSegmentAge
        if self.head.segmentLines > 0, ageLimitReached || self.head.segmentBytes >= self.configuration.maxSegmentBytes {
            try self.enqueueCheckpoint(reason: .rotate)
        }
        let (bytes, receipt) = try self.seal(payload)
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<AppendReceipt, AuditError>, Never>) in
            self.pending.append(PendingLine(bytes: bytes, segment: self.head.segment, head: nil, waiter: continuation, receipt: receipt))
            self.advance(by: bytes.count, closing: false)
            if !self.flushing { Task { await self.flush() } ; self.flushing = true }
        }
        return try result.get()
    }

    /// Seals `payload` as the next line.
    private func seal(_ payload: AuditPayload) throws(AuditError) -> ([UInt8], AppendReceipt) {
        let entry = LogEntry(seq: self.head.seq + 1, prev: self.head.hash, kid: self.key.keyID, payload: payload)
        let line = try entry.sealedLine(key: self.key.bytes)
        return (line + [UInt8(ascii: "\n")], AppendReceipt(seq: entry.seq, hash: Crypto.hex(Crypto.sha256(line))))
    }

    private func advance(by count: Int, closing: Bool) {
        guard let last = self.pending.last else { return }
        self.head.seq = last.receipt.seq
        self.head.hash = last.receipt.hash
        self.head.segmentLines += 1
        self.head.segmentBytes += count
        self.head.segmentClosed = closing
    }

    /// Queues a checkpoint closing the current segment; the next line goes to a new segment.
    private func enqueueCheckpoint(reason: Checkpoint.Reason) throws(AuditError) {
        let time = UTCTime.format(milliseconds: UTCTime.nowMilliseconds())
        let checkpoint = Checkpoint(segment: self.head.segment, count: self.head.segmentLines, lastHash: self.head.hash, time: time, reason: reason)
        let (bytes, receipt) = try self.seal(.checkpoint(checkpoint))
        let headFile = HeadCheckpoint(seq: receipt.seq, hash: receipt.hash, segment: self.head.segment, time: time, kid: self.key.keyID)
        self.pending.append(PendingLine(bytes: bytes, segment: self.head.segment, head: headFile, waiter: nil, receipt: receipt))
        self.advance(by: bytes.count, closing: true)
        if reason == .rotate {
            self.head.segment += 1
            self.head.segmentLines = 0
            self.head.segmentBytes = 0
            self.head.segmentClosed = false
            self.segmentOpenedAt = .now
        }
    }

    /// Writes queued lines in batches, one fsync per batch, until none are left.
    private func flush() async {
        while !self.pending.isEmpty, let file = self.file {
            let batch = self.pending
            self.pending.removeAll()
            let steps = batch.map { WriteStep(bytes: $0.bytes, segment: $0.segment, head: $0.head) }
            let target = self.head
            let context = IOContext(directory: self.configuration.directory, key: self.key, faults: self.configuration.faults)
            let result = await self.onIOQueue { () throws(AuditError) -> SegmentFile in
                try context.perform(steps, file: file)
            }
            switch result {
            case .success(let newFile):
                self.file = newFile
                self.batches += 1
                self.durable = self.stateAfter(batch: batch, target: target)
                for line in batch { line.waiter?.resume(returning: .success(line.receipt)) }
            case .failure(let error):
                self.fail(batch + self.pending, with: error)
            }
        }
        self.flushing = false
        for waiter in self.idleWaiters { waiter.resume() }
        self.idleWaiters.removeAll()
    }

    /// The durable state after `batch`: `target` when nothing was queued behind it, else recomputed from the batch.
    private func stateAfter(batch: [PendingLine], target: ChainState) -> ChainState {
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

    private func fail(_ lines: [PendingLine], with error: AuditError) {
        self.pending.removeAll()
        for line in lines { line.waiter?.resume(returning: .failure(error)) }
        self.file?.closeFile()
        self.file = nil
        self.head = self.durable
        self.health.set(false)
        Task { await self.recoveryLoop() }
    }

    private func recoveryLoop() async {
        while !self.closed, !self.health.isHealthy {
            try? await Task.sleep(for: self.configuration.recoveryInterval)
            _ = await self.recover()
        }
    }

    /// Tries once to recover from a write failure; returns whether the log is healthy. Healthy logs return true at
    /// once. Called by the background task; callers (a readiness probe, tests) may call it too.
    @discardableResult
    public func recover() async -> Bool {
        guard !self.health.isHealthy, !self.recovering, !self.closed else { return self.health.isHealthy }
        await self.waitUntilIdle()
        self.recovering = true
        defer { self.recovering = false }
        let recovery = Recovery(directory: self.configuration.directory, key: self.key, faults: self.configuration.faults)
        let durable = self.durable
        let result = await self.onIOQueue { () throws(AuditError) -> RecoveredSegment in
            let (file, state) = try recovery.resume(from: durable)
            return RecoveredSegment(file: file, state: state)
        }
        guard case .success(let recovered) = result else { return false }
        self.file = recovered.file
        self.head = recovered.state
        self.durable = recovered.state
        self.segmentOpenedAt = .now
        self.health.set(true)
        return true
    }

    /// Writes a `shutdown` checkpoint (when healthy), updates HEAD and releases the writer lock. Appends after
    /// this throw `.closed`.
    public func close() async throws(AuditError) {
        guard !self.closed else { return }
        self.closed = true
        await self.waitUntilIdle()
        defer {
            self.file?.closeFile()
            self.file = nil
            WriterLock.release(self.lockDescriptor)
        }
        guard self.health.isHealthy, let file = self.file else { return }
        try self.enqueueCheckpoint(reason: .shutdown)
        let steps = self.pending.map { WriteStep(bytes: $0.bytes, segment: $0.segment, head: $0.head) }
        self.pending.removeAll()
        let context = IOContext(directory: self.configuration.directory, key: self.key, faults: self.configuration.faults)
        let result = await self.onIOQueue { () throws(AuditError) -> SegmentFile in try context.perform(steps, file: file) }
        if case .failure(let error) = result { throw error }
    }

    /// Stops without a checkpoint, as a killed process would (tests of start-up recovery).
    func abandonForTesting() async {
        self.closed = true
        await self.waitUntilIdle()
        self.file?.closeFile()
        self.file = nil
        WriterLock.release(self.lockDescriptor)
    }

    private func waitUntilIdle() async {
        guard self.flushing else { return }
        await withCheckedContinuation { self.idleWaiters.append($0) }
    }

    /// Runs blocking file work on the log's own dispatch queue, off the cooperative pool.
    private func onIOQueue<T: Sendable>(_ work: @escaping @Sendable () throws(AuditError) -> T) async -> Result<T, AuditError> {
        await withCheckedContinuation { continuation in
            self.io.async {
                do throws(AuditError) {
                    continuation.resume(returning: .success(try work()))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
        }
    }
}

/// A line queued for the next batch.
private struct PendingLine {
    let bytes: [UInt8]
    let segment: Int
    let head: HeadCheckpoint?
    let waiter: CheckedContinuation<Result<AppendReceipt, AuditError>, Never>?
    let receipt: AppendReceipt
}

private struct RecoveredSegment: @unchecked Sendable {
    let file: SegmentFile
    let state: ChainState
}

/// The health bit, readable from any thread without awaiting the actor.
private final class HealthFlag: Sendable {
    private let value = Atomic<Bool>(true)
    var isHealthy: Bool { self.value.load(ordering: .acquiring) }
    func set(_ healthy: Bool) { self.value.store(healthy, ordering: .releasing) }
}
