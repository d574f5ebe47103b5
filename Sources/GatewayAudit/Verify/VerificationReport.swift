/// What `AuditVerifier` found.
public struct VerificationReport: Sendable, Hashable {
    /// The kinds of integrity failure, each with its own exit code for `gatewayctl log verify`.
    public enum FailureKind: String, Sendable, Hashable {
        /// Not a sealed line, or not decodable: a byte was edited.
        case malformed
        /// The MAC does not verify under this log's key: the line was edited (and possibly re-serialised).
        case badMAC
        /// MACed with another key: a line spliced from another gateway's log.
        case foreignKey
        /// `seq` is not the next number: a line was deleted (gap), duplicated or reordered.
        case sequence
        /// `prev` is not the previous line's hash: inserted, reordered or spliced from another chain.
        case chain
        /// A checkpoint's count or hash disagrees with the lines before it.
        case checkpoint
        /// The log ends before the newest checkpoint (HEAD), or a closed segment lost its checkpoint.
        case truncated

        /// Exit status for `gatewayctl log verify`.
        public var exitCode: Int32 {
            switch self {
            case .malformed: return 2
            case .badMAC: return 3
            case .foreignKey: return 4
            case .sequence, .chain: return 5
            case .checkpoint, .truncated: return 6
            }
        }
    }

    /// The first bad line.
    public struct Failure: Sendable, Hashable, CustomStringConvertible {
        public var kind: FailureKind
        /// The segment file and 1-based line number, or the HEAD file.
        public var file: String
        public var line: Int
        /// The line's `seq` and record id, when it could be read.
        public var seq: UInt64?
        public var recordID: RecordID?
        public var detail: String

        public var description: String {
            var where_ = "\(self.file):\(self.line)"
            if let seq = self.seq { where_ += " seq \(seq)" }
            if let id = self.recordID { where_ += " record \(id)" }
            return "\(where_): \(self.kind.rawValue): \(self.detail)"
        }
    }

    /// Segments read, and lines that verified.
    public var segments: Int
    public var lines: Int
    /// Decision records among those lines (outcome, review and checkpoint lines are not records).
    public var records: Int
    public var checkpoints: Int
    /// The first failure; nil when the log verified.
    public var failure: Failure?
    /// Things worth knowing that are not failures (torn files set aside, last segment still open).
    public var notes: [String]

    public var ok: Bool { self.failure == nil }
}
