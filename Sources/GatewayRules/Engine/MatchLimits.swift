/// Bounds on one PCRE2 match call. Hitting any of them is an error that blocks the request (fail closed), so a
/// pattern with catastrophic backtracking costs bounded time instead of stalling an event loop.
public struct MatchLimits: Sendable, Hashable {
    /// `pcre2_set_match_limit`: calls of the internal match function (also honoured by the JIT).
    public var matchLimit: UInt32
    /// `pcre2_set_depth_limit`: backtracking depth (interpreter only).
    public var depthLimit: UInt32
    /// `pcre2_set_heap_limit` in KiB (interpreter only).
    public var heapLimitKiB: UInt32
    /// Maximum JIT stack in bytes.
    public var jitStackBytes: Int

    public init(matchLimit: UInt32 = 1_000_000, depthLimit: UInt32 = 10_000, heapLimitKiB: UInt32 = 20_000,
                jitStackBytes: Int = 512 * 1024) {
        self.matchLimit = matchLimit
        self.depthLimit = depthLimit
        self.heapLimitKiB = heapLimitKiB
        self.jitStackBytes = jitStackBytes
    }

    public static let `default` = MatchLimits()
}
