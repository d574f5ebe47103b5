import Foundation
import GatewayCrypto

/// Checks a log directory against its key and stops at the first bad line.
///
/// Detects: an edited byte (malformed or bad MAC), an edited and re-serialised field (bad MAC), a deleted line
/// (sequence gap, or chain break), an inserted line (bad MAC, or chain break when MACed by the same key), a
/// duplicated or reordered line (sequence), a truncated tail (the log ends before the checkpoint in `HEAD`, or a
/// segment followed by another does not end with its checkpoint), a line from another gateway (other key id, or a
/// chain that does not link). Accepts clean logs across any number of segments; `*.torn` files are reported, not
/// checked. Read-only.
public struct AuditVerifier: Sendable {
    public let directory: String
    public let key: [UInt8]

    public init(directory: String, key: [UInt8]) {
        self.directory = directory
        self.key = key
    }

    public func verify() -> VerificationReport {
        var state = ScanState(keyID: KeyFile(path: "", bytes: self.key).keyID)
        var report = VerificationReport(segments: 0, lines: 0, records: 0, checkpoints: 0, failure: nil, notes: [])
        let segments = SegmentNames.list(in: self.directory)
        for (position, index) in segments.enumerated() {
            let name = SegmentNames.name(index)
            report.segments += 1
            if position > 0, index != segments[position - 1] + 1 {
                report.failure = .init(kind: .truncated, file: name, line: 0, detail: "segment \(segments[position - 1] + 1) is missing")
                return report
            }
            if FileManager.default.fileExists(atPath: self.directory + "/" + name + ".torn") {
                report.notes.append("\(name).torn holds a torn tail set aside at start-up")
            }
            let bytes = FileOps.read(self.directory + "/" + name) ?? []
            let (lines, tail) = SegmentNames.lines(bytes)
            if !tail.isEmpty {
                report.failure = .init(kind: .truncated, file: name, line: lines.count + 1, detail: "line without newline (torn or cut)")
                return report
            }
            state.startSegment(index)
            for (number, line) in lines.enumerated() {
                if let failure = state.check(line, file: name, line: number + 1, key: self.key) {
                    report.failure = failure
                    return report
                }
                report.lines += 1
            }
            let isLast = position == segments.count - 1
            if !isLast, !state.segmentClosed {
                report.failure = .init(kind: .truncated, file: name, line: lines.count, seq: state.seq, detail: "segment does not end with its checkpoint")
                return report
            }
            if isLast, !state.segmentClosed {
                report.notes.append("\(name) is open (being written, or the writer stopped without a checkpoint)")
            }
        }
        report.records = state.records
        report.checkpoints = state.checkpoints
        report.failure = self.checkHead(state: state)
        return report
    }

    /// The log must reach the checkpoint named in HEAD, and hold it with the same hash.
    private func checkHead(state: ScanState) -> VerificationReport.Failure? {
        let headFile = HeadCheckpoint.fileName
        switch HeadCheckpoint.read(directory: self.directory, key: self.key) {
        case nil:
            guard state.checkpoints == 0 else {
                return .init(kind: .truncated, file: headFile, line: 1, detail: "HEAD is missing although the log has checkpoints")
            }
            return nil
        case .failure(let problem)?:
            return .init(kind: problem == .badMAC ? .badMAC : .malformed, file: headFile, line: 1, detail: "HEAD does not verify")
        case .success(let head)?:
            guard head.seq <= state.seq else {
                return .init(
                    kind: .truncated, file: headFile, line: 1, seq: head.seq,
                    detail: "HEAD names checkpoint seq \(head.seq) but the log ends at seq \(state.seq)"
                )
            }
            guard state.hashes[head.seq] == head.hash else {
                return .init(kind: .checkpoint, file: headFile, line: 1, seq: head.seq, detail: "HEAD's checkpoint hash does not match the log")
            }
            return nil
        }
    }
}

/// The running state of a verification.
private struct ScanState {
    let keyID: String
    var seq: UInt64 = 0
    var hash = LogEntry.genesis
    var segment = 0
    var segmentLines = 0
    var segmentClosed = false
    var records = 0
    var checkpoints = 0
    /// Hashes of checkpoint lines by seq (to check HEAD).
    var hashes: [UInt64: String] = [:]

    mutating func startSegment(_ index: Int) {
        self.segment = index
        self.segmentLines = 0
        self.segmentClosed = false
    }

    mutating func check(_ line: ArraySlice<UInt8>, file: String, line number: Int, key: [UInt8]) -> VerificationReport.Failure? {
        func failure(_ kind: VerificationReport.FailureKind, _ entry: LogEntry?, _ detail: String) -> VerificationReport.Failure {
            .init(kind: kind, file: file, line: number, seq: entry?.seq, recordID: entry?.subject, detail: detail)
        }
        let parsed: ParsedLine
        do { parsed = try ParsedLine.parse(line) } catch {
            return failure(.malformed, nil, error == .malformed ? "not a sealed line" : "sealed part is not a valid entry")
        }
        let entry = parsed.entry
        guard parsed.authentic(key: key) else {
            if entry.kid != self.keyID { return failure(.foreignKey, entry, "MACed with key \(entry.kid), not \(self.keyID)") }
            return failure(.badMAC, entry, "MAC does not verify (line edited)")
        }
        guard entry.seq == self.seq + 1 else {
            let what = entry.seq <= self.seq ? "duplicated or out of order" : "\(entry.seq - self.seq - 1) line(s) missing"
            return failure(.sequence, entry, "expected seq \(self.seq + 1), found \(entry.seq): \(what)")
        }
        guard entry.prev == self.hash else { return failure(.chain, entry, "prev does not match the previous line's hash") }
        if let checkpoint = entry.checkpoint {
            guard checkpoint.segment == self.segment, checkpoint.count == self.segmentLines, checkpoint.lastHash == self.hash else {
                return failure(.checkpoint, entry, "checkpoint says segment \(checkpoint.segment) with \(checkpoint.count) lines; found \(self.segmentLines)")
            }
        }
        let lineHash = Crypto.hex(Crypto.sha256(line))
        self.seq = entry.seq
        self.hash = lineHash
        self.segmentLines += 1
        self.segmentClosed = entry.kind == .checkpoint
        switch entry.kind {
        case .checkpoint:
            self.checkpoints += 1
            self.hashes[entry.seq] = lineHash
        case .record:
            self.records += 1
        case .outcome, .outcomes, .review, .config:
            break
        }
        return nil
    }
}
