import CPCRE2

/// One compiled PCRE2 regular expression over bytes (8-bit code units, no UTF checks: input may hold any bytes).
///
/// Compiled and JIT-compiled once; after that the code is read-only and may be shared by all threads. Matching needs
/// a `MatchSession`, which must not be shared between concurrent scans.
public final class PCRE2Pattern: @unchecked Sendable {
    /// The pattern text as written.
    public let source: String
    public let options: PatternOptions
    /// Number of capturing groups.
    public let captureCount: Int
    /// True when the JIT compiled the pattern; only then is `pcre2_jit_match` used.
    public let isJITCompiled: Bool
    private let code: OpaquePointer

    /// Compiles `source`; throws `.compile` with PCRE2's message and offset.
    public init(_ source: String, options: PatternOptions = []) throws(PCRE2Error) {
        var errorCode: Int32 = 0
        var errorOffset: Int = 0
        let bytes = Array(source.utf8)
        let compiled = bytes.withUnsafeBufferPointer { buffer in
            pcre2_compile_8(buffer.baseAddress, buffer.count, options.rawValue, &errorCode, &errorOffset, nil)
        }
        guard let compiled else {
            throw .compile(code: errorCode, message: PCRE2Error.message(for: errorCode), offset: errorOffset)
        }
        self.source = source
        self.options = options
        self.code = compiled
        self.isJITCompiled = pcre2_jit_compile_8(compiled, UInt32(PCRE2_JIT_COMPLETE)) == 0
        var groups: UInt32 = 0
        pcre2_pattern_info_8(compiled, UInt32(PCRE2_INFO_CAPTURECOUNT), &groups)
        self.captureCount = Int(groups)
    }

    deinit { pcre2_code_free_8(self.code) }

    /// The first match in `subject[start..<subject.count]`; lookbehinds may see bytes before `start`.
    ///
    /// Returns the byte ranges of the whole match (index 0) and of each group (nil when the group did not take part).
    /// Throws `.limitExceeded` when a limit in the session's context was hit.
    public func firstMatch(in subject: UnsafeBufferPointer<UInt8>, from start: Int, session: MatchSession)
        throws(PCRE2Error) -> [Range<Int>?]?
    {
        guard start <= subject.count else { return nil }
        // An empty buffer has no base address; PCRE2 accepts any non-null pointer with length 0.
        let result: Int32 = withUnsafePointer(to: UInt8(0)) { fallback in
            let base = subject.baseAddress ?? fallback
            return self.isJITCompiled
                ? pcre2_jit_match_8(self.code, base, subject.count, start, 0, session.matchData, session.context)
                : pcre2_match_8(self.code, base, subject.count, start, 0, session.matchData, session.context)
        }
        if result == PCRE2_ERROR_NOMATCH { return nil }
        if result < 0 { throw PCRE2Error.fromMatch(code: result) }
        let pairs = result == 0 ? Int(MatchSession.ovectorPairs) : Int(result)
        guard let ovector = pcre2_get_ovector_pointer_8(session.matchData) else { return nil }
        var ranges: [Range<Int>?] = []
        ranges.reserveCapacity(self.captureCount + 1)
        for index in 0...self.captureCount {
            guard index < pairs else {
                ranges.append(nil)
                continue
            }
            let lower = ovector[2 * index]
            let upper = ovector[2 * index + 1]
            // PCRE2_UNSET is ~(size_t)0, which Swift sees as -1 (size_t imports as Int).
            if lower < 0 || upper < lower || upper > subject.count {
                ranges.append(nil)
            } else {
                ranges.append(Int(lower)..<Int(upper))
            }
        }
        return ranges
    }

    /// Convenience for tests and tools: does `text` contain a match anywhere?
    public func matches(_ text: String, session: MatchSession = MatchSession()) throws(PCRE2Error) -> Bool {
        let bytes = Array(text.utf8)
        return try bytes.withUnsafeBufferPointer { (buffer) throws(PCRE2Error) -> Bool in
            try self.firstMatch(in: buffer, from: 0, session: session) != nil
        }
    }
}
