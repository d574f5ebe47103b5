/// Where the chain stands: the last line's `seq` and hash, and the open segment's number, line count and size.
struct ChainState: Sendable, Hashable {
    var seq: UInt64
    var hash: String
    var segment: Int
    var segmentLines: Int
    var segmentBytes: Int
    /// Whether the segment's last line is a checkpoint.
    var segmentClosed: Bool
}

/// What start-up found and repaired.
public struct StartupReport: Sendable, Hashable {
    /// Where a torn or unreadable tail was moved (`….jsonl.torn`), if there was one.
    public var tornFile: String?
    public var tornBytes: Int
    /// The segment that was closed with a `recovered` checkpoint (it had no checkpoint: crash or kill -9).
    public var recoveredSegment: Int?
    /// The segment now being written.
    public var segment: Int
    /// `seq` of the last line before this run.
    public var lastSeq: UInt64
}

/// Receipt for a durable append.
public struct AppendReceipt: Sendable, Hashable {
    /// The line's sequence number and SHA-256 (hex).
    public let seq: UInt64
    public let hash: String
}
