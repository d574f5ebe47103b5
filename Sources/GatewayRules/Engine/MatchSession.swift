import CPCRE2

/// The mutable PCRE2 state one scan needs: match data, a match context carrying the limits, and a JIT stack.
///
/// `pcre2_match_data` is not thread-safe, so a session is used by one scan at a time. Sessions are cheap enough to
/// make per request (it is `@unchecked Sendable` only so the pool can hand it between threads; one user at a time), and `RuleSet` also keeps a small pool so the hot path does not allocate them.
public final class MatchSession: @unchecked Sendable {
    /// Enough ovector pairs for any rule; a pattern with more groups still matches, extra groups are not reported.
    static let ovectorPairs: UInt32 = 32

    let matchData: OpaquePointer
    let context: OpaquePointer
    let jitStack: OpaquePointer?

    public init(limits: MatchLimits = .default) {
        guard let data = pcre2_match_data_create_8(Self.ovectorPairs, nil),
            let context = pcre2_match_context_create_8(nil)
        else { fatalError("PCRE2 could not allocate match data (out of memory)") }
        self.matchData = data
        self.context = context
        pcre2_set_match_limit_8(context, limits.matchLimit)
        pcre2_set_depth_limit_8(context, limits.depthLimit)
        pcre2_set_heap_limit_8(context, limits.heapLimitKiB)
        let stack = pcre2_jit_stack_create_8(32 * 1024, max(32 * 1024, limits.jitStackBytes), nil)
        self.jitStack = stack
        if let stack { pcre2_jit_stack_assign_8(context, nil, UnsafeMutableRawPointer(stack)) }
    }

    deinit {
        pcre2_match_data_free_8(self.matchData)
        pcre2_match_context_free_8(self.context)
        if let jitStack { pcre2_jit_stack_free_8(jitStack) }
    }
}
