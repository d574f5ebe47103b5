import GatewayCrypto

/// The I/O queue's half of the log: the open segment, where the chain stands, and the contexts lines are sealed
/// with. Sealing happens here, a batch at a time, so an append on an event loop only queues its payload: the loops
/// share no lock while a line is encoded, MACed and hashed, and the sealing code stays hot in one thread's cache.
///
/// Used only on the log's I/O queue (which is serial), hence `@unchecked Sendable`.
final class ChainWriter: @unchecked Sendable {
    /// Nil while the log is unhealthy, until recovery opens a fresh descriptor.
    var file: SegmentFile?
    /// Where the chain stands including lines sealed but not yet durable.
    private(set) var head: ChainState
    /// Where it stood after the last successful fsync: what recovery cuts back to.
    private(set) var durable: ChainState
    private var segmentOpenedAt: ContinuousClock.Instant = .now
    private let sealing: LineSealing
    private let keyID: String
    private let maxSegmentBytes: Int
    private let maxSegmentAge: Duration

    init(file: SegmentFile, head: ChainState, key: KeyFile, configuration: AuditLogConfiguration) {
        self.file = file
        self.head = head
        self.durable = head
        self.sealing = LineSealing(key: key.mac)
        self.keyID = key.keyID
        self.maxSegmentBytes = configuration.maxSegmentBytes
        self.maxSegmentAge = configuration.maxSegmentAge
    }

    /// Seals `queued` in order into a batch. A payload that cannot be encoded fails its own waiter at once and
    /// takes no place in the chain; the others are unaffected.
    func seal(_ queued: [QueuedLine]) -> [PendingLine] {
        var batch: [PendingLine] = []
        batch.reserveCapacity(queued.count + 1)
        for line in queued {
            do throws(AuditError) {
                try self.seal(line.payload, waiter: line.waiter, into: &batch)
            } catch {
                line.waiter?(.failure(error))
            }
        }
        return batch
    }

    /// Seals `payload` as the next line, after a checkpoint closing the segment when it is due, and appends what it
    /// sealed to `batch`. Throws (and appends nothing) when the payload cannot be encoded.
    func seal(_ payload: AuditPayload, waiter: AuditLog.Completion?, into batch: inout [PendingLine]) throws(AuditError) {
        let ageLimitReached = ContinuousClock.now - self.segmentOpenedAt >= self.maxSegmentAge
        if self.head.segmentLines > 0, ageLimitReached || self.head.segmentBytes >= self.maxSegmentBytes {
            try self.checkpoint(reason: .rotate, into: &batch)
        }
        let (bytes, receipt) = try self.sealLine(payload)
        self.enqueue(PendingLine(bytes: bytes, segment: self.head.segment, head: nil, waiter: waiter, receipt: receipt), into: &batch)
    }

    /// Seals a checkpoint closing the current segment; after `.rotate` the next line goes to a new segment.
    func checkpoint(reason: Checkpoint.Reason, into batch: inout [PendingLine]) throws(AuditError) {
        let time = UTCTime.format(milliseconds: UTCTime.nowMilliseconds())
        let checkpoint = Checkpoint(
            segment: self.head.segment, count: self.head.segmentLines, lastHash: self.head.hash, time: time, reason: reason
        )
        let (bytes, receipt) = try self.sealLine(.checkpoint(checkpoint))
        let headFile = HeadCheckpoint(seq: receipt.seq, hash: receipt.hash, segment: self.head.segment, time: time, kid: self.keyID)
        self.enqueue(PendingLine(bytes: bytes, segment: self.head.segment, head: headFile, waiter: nil, receipt: receipt), into: &batch)
        self.head.segmentClosed = true
        if reason == .rotate {
            self.head.segment += 1
            self.head.segmentLines = 0
            self.head.segmentBytes = 0
            self.head.segmentClosed = false
            self.segmentOpenedAt = .now
        }
    }

    /// Forgets lines sealed since the last durable batch (they failed, or were never written).
    func rewindToDurable() { self.head = self.durable }

    /// Recovery opened `file`, a fresh segment after `state`: writing continues there.
    func resume(in file: SegmentFile, at state: ChainState) {
        self.file = file
        self.head = state
        self.durable = state
        self.segmentOpenedAt = .now
    }

    /// The lines of a batch are on disk: the chain as sealed is now durable.
    func batchIsDurable() { self.durable = self.head }

    private func enqueue(_ line: PendingLine, into batch: inout [PendingLine]) {
        batch.append(line)
        self.head.seq = line.receipt.seq
        self.head.hash = line.receipt.hash
        self.head.segmentLines += 1
        self.head.segmentBytes += line.bytes.count
        self.head.segmentClosed = false
    }

    /// The line after `head`, sealed in the JSON writer's buffer, with its receipt.
    private func sealLine(_ payload: AuditPayload) throws(AuditError) -> ([UInt8], AppendReceipt) {
        let entry = LogEntry(seq: self.head.seq + 1, prev: self.head.hash, kid: self.keyID, payload: payload)
        var line = CanonicalJSON()
        try entry.write(to: &line)
        Sealing.seal(&line, mac: self.sealing.mac)
        let hash = Crypto.hex(line.withBytes { self.sealing.hash.digest($0) })  // of the line without its newline
        line.append(UInt8(ascii: "\n"))
        return (line.bytes, AppendReceipt(seq: entry.seq, hash: hash))
    }
}

/// The contexts the log seals its lines with: the line's MAC and the SHA-256 that chains the next line to it. Made
/// once per log and reused for every line, so sealing allocates no OpenSSL contexts; not thread-safe, so it lives in
/// the I/O queue's `ChainWriter`.
final class LineSealing {
    let mac: SerialHMAC
    let hash = SerialSHA256()

    init(key: HMACKey) { self.mac = SerialHMAC(key: key) }
}
