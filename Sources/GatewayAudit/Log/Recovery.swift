import Foundation
import GatewayCrypto

/// Brings a log directory to a state where appending can start: the last segment ends with a good line and a
/// checkpoint, and a fresh segment is open. Runs at start-up (from what is on disk) and after a write failure (from
/// the last state known durable). Synchronous; called on the log's I/O queue.
struct Recovery {
    let directory: String
    let key: KeyFile
    let faults: FaultInjector?

    /// Start-up: scans the last segment, sets aside a torn or unreadable tail, closes the segment with a `recovered`
    /// checkpoint when it lacks one, and opens the next segment.
    func start() throws(AuditError) -> (SegmentFile, ChainState, StartupReport) {
        guard let last = SegmentNames.list(in: self.directory).last else {
            let state = ChainState(seq: 0, hash: LogEntry.genesis, segment: 1, segmentLines: 0, segmentBytes: 0, segmentClosed: false)
            let file = try self.openSegment(1)
            return (file, state, StartupReport(tornFile: nil, tornBytes: 0, recoveredSegment: nil, segment: 1, lastSeq: 0))
        }
        let path = self.path(last)
        let bytes = FileOps.read(path) ?? []
        var (lines, tail) = SegmentNames.lines(bytes)
        var goodLength = tail.startIndex
        var lastGood: (ParsedLine, String)?
        while let line = lines.last {
            if let parsed = try? ParsedLine.parse(line), parsed.authentic(key: self.key.bytes) {
                lastGood = (parsed, Crypto.hex(Crypto.sha256(line)))
                break
            }
            lines.removeLast()
            goodLength = line.startIndex
            tail = bytes[goodLength..<tail.endIndex]
        }
        var report = StartupReport(tornFile: nil, tornBytes: tail.count, recoveredSegment: nil, segment: last + 1, lastSeq: 0)
        if !tail.isEmpty { report.tornFile = try self.setAside(Array(tail), segmentPath: path) }
        var state: ChainState
        if let (parsed, hash) = lastGood {
            state = ChainState(
                seq: parsed.entry.seq, hash: hash, segment: last, segmentLines: lines.count, segmentBytes: goodLength,
                segmentClosed: parsed.entry.kind == .checkpoint
            )
        } else {
            state = try self.previousHead(before: last)
        }
        report.lastSeq = state.seq
        if !state.segmentClosed { report.recoveredSegment = last }
        let opened = try self.close(segment: last, at: state)
        return (opened.file, opened.nextState, report)
    }

    /// After a write failure: cuts the segment back to `durable`, drops later segments (they hold only
    /// unacknowledged lines), closes it with a `recovered` checkpoint and opens the next segment.
    func resume(from durable: ChainState) throws(AuditError) -> (SegmentFile, ChainState) {
        for index in SegmentNames.list(in: self.directory) where index > durable.segment {
            unlink(self.path(index))
        }
        let opened = try self.close(segment: durable.segment, at: durable)
        return (opened.file, opened.nextState)
    }

    /// Truncates `segment` to `state.segmentBytes`, appends a `recovered` checkpoint unless it already ends with
    /// one, syncs, writes HEAD, and opens segment + 1.
    private func close(segment: Int, at state: ChainState) throws(AuditError) -> OpenedSegment {
        let current = try SegmentFile(path: self.path(segment), index: segment, faults: self.faults)
        defer { current.closeFile() }
        if current.size != state.segmentBytes { try current.truncate(to: state.segmentBytes) }
        var after = state
        if !state.segmentClosed {
            let checkpoint = Checkpoint(
                segment: segment, count: state.segmentLines, lastHash: state.hash,
                time: UTCTime.format(milliseconds: UTCTime.nowMilliseconds()), reason: .recovered
            )
            let entry = LogEntry(seq: state.seq + 1, prev: state.hash, kid: self.key.keyID, payload: .checkpoint(checkpoint))
            let line = try entry.sealedLine(key: self.key.mac)
            try current.append(line + [UInt8(ascii: "\n")])
            try current.sync()
            after.seq += 1
            after.hash = Crypto.hex(Crypto.sha256(line))
            try HeadCheckpoint(seq: after.seq, hash: after.hash, segment: segment, time: checkpoint.time, kid: self.key.keyID)
                .write(directory: self.directory, key: self.key.bytes)
        }
        let next = try self.openSegment(segment + 1)
        let nextState = ChainState(
            seq: after.seq, hash: after.hash, segment: segment + 1, segmentLines: 0, segmentBytes: 0, segmentClosed: false
        )
        return OpenedSegment(file: next, nextState: nextState)
    }

    /// The chain head at the end of the segment before `index` (used when a whole last segment is unreadable).
    private func previousHead(before index: Int) throws(AuditError) -> ChainState {
        guard index > 1, let bytes = FileOps.read(self.path(index - 1)),
            let line = SegmentNames.lines(bytes).lines.last, let parsed = try? ParsedLine.parse(line)
        else {
            return ChainState(seq: 0, hash: LogEntry.genesis, segment: index, segmentLines: 0, segmentBytes: 0, segmentClosed: false)
        }
        return ChainState(
            seq: parsed.entry.seq, hash: Crypto.hex(Crypto.sha256(line)), segment: index, segmentLines: 0,
            segmentBytes: 0, segmentClosed: false
        )
    }

    private func openSegment(_ index: Int) throws(AuditError) -> SegmentFile {
        let file = try SegmentFile(path: self.path(index), index: index, truncate: true, faults: self.faults)
        try FileOps.syncDirectory(self.directory)
        return file
    }

    /// Moves torn bytes to `<segment>.torn` (or `.torn.N`), durably, before the segment is cut.
    private func setAside(_ bytes: [UInt8], segmentPath: String) throws(AuditError) -> String {
        var target = segmentPath + ".torn"
        var number = 2
        while FileManager.default.fileExists(atPath: target) {
            target = segmentPath + ".torn.\(number)"
            number += 1
        }
        try FileOps.writeAtomically(bytes, to: target)
        return target
    }

    func path(_ index: Int) -> String { self.directory + "/" + SegmentNames.name(index) }
}

/// A freshly opened segment and the chain state to continue from.
struct OpenedSegment {
    let file: SegmentFile
    let nextState: ChainState
}
