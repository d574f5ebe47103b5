/// Size and time limits that protect the gateway and bound inspection (`limits:`).
public struct LimitSettings: Sendable, Hashable {
    /// `max_body_bytes`, default `8388608` (8 MiB): request bodies are held in memory for inspection; larger → 413.
    public let maxBodyBytes: Int
    /// `max_header_bytes`, default `16384`: the whole request head; larger → 431.
    public let maxHeaderBytes: Int
    /// `upstream_timeout_seconds`, default `600`: the default first-byte timeout of every provider.
    public let upstreamTimeoutSeconds: Int
    /// `inspection_deadline_ms`, default `250`: a body whose inspection takes longer is blocked (fail closed).
    public let inspectionDeadlineMilliseconds: Int
    /// `max_decompressed_bytes`, default `33554432` (32 MiB): gzip/deflate bodies beyond this after decoding → 413.
    public let maxDecompressedBytes: Int
    /// `max_decompression_ratio`, default `100`: decoded/encoded size beyond this is treated as a bomb → 413.
    public let maxDecompressionRatio: Int
    /// Timeouts and bounds of caller connections.
    public let connections: ConnectionLimits

    public static let defaultMaxBodyBytes = 8_388_608
    public static let defaultMaxHeaderBytes = 16_384
    public static let defaultUpstreamTimeoutSeconds = 600
    public static let defaultInspectionDeadlineMilliseconds = 250
    public static let defaultMaxDecompressedBytes = 33_554_432
    public static let defaultMaxDecompressionRatio = 100

    public init(
        maxBodyBytes: Int = Self.defaultMaxBodyBytes, maxHeaderBytes: Int = Self.defaultMaxHeaderBytes,
        upstreamTimeoutSeconds: Int = Self.defaultUpstreamTimeoutSeconds,
        inspectionDeadlineMilliseconds: Int = Self.defaultInspectionDeadlineMilliseconds,
        maxDecompressedBytes: Int = Self.defaultMaxDecompressedBytes,
        maxDecompressionRatio: Int = Self.defaultMaxDecompressionRatio, connections: ConnectionLimits = .init()
    ) {
        self.maxBodyBytes = maxBodyBytes
        self.maxHeaderBytes = maxHeaderBytes
        self.upstreamTimeoutSeconds = upstreamTimeoutSeconds
        self.inspectionDeadlineMilliseconds = inspectionDeadlineMilliseconds
        self.maxDecompressedBytes = maxDecompressedBytes
        self.maxDecompressionRatio = maxDecompressionRatio
        self.connections = connections
    }
}
