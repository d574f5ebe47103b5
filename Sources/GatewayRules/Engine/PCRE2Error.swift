import CPCRE2

/// A failure reported by PCRE2, with PCRE2's own message text.
///
/// `compile` carries the byte offset into the pattern where PCRE2 gave up, so a rule author can find the mistake.
/// The match-time cases are what the scanner turns into a fail-closed block.
public enum PCRE2Error: Error, Sendable, Hashable, CustomStringConvertible {
    /// The pattern does not compile. `offset` is the byte offset in the pattern PCRE2 reports.
    case compile(code: Int32, message: String, offset: Int)
    /// The match limit, depth limit, heap limit or JIT stack limit was hit: the pattern backtracked too much.
    case limitExceeded(code: Int32, message: String)
    /// Any other negative return from a match call.
    case match(code: Int32, message: String)

    /// PCRE2's text for an error code (`pcre2_get_error_message`).
    public static func message(for code: Int32) -> String {
        var buffer = [UInt8](repeating: 0, count: 256)
        let length = buffer.withUnsafeMutableBufferPointer { pcre2_get_error_message_8(code, $0.baseAddress, $0.count) }
        guard length > 0 else { return "PCRE2 error \(code)" }
        return String(decoding: buffer.prefix(Int(length)), as: UTF8.self)
    }

    /// Classifies a negative match return code.
    static func fromMatch(code: Int32) -> PCRE2Error {
        switch code {
        case PCRE2_ERROR_MATCHLIMIT, PCRE2_ERROR_DEPTHLIMIT, PCRE2_ERROR_HEAPLIMIT, PCRE2_ERROR_JIT_STACKLIMIT,
            PCRE2_ERROR_NOMEMORY:
            return .limitExceeded(code: code, message: message(for: code))
        default:
            return .match(code: code, message: message(for: code))
        }
    }

    public var description: String {
        switch self {
        case .compile(_, let message, let offset): return "PCRE2 compile error at offset \(offset): \(message)"
        case .limitExceeded(_, let message): return "PCRE2 match limit hit: \(message)"
        case .match(let code, let message): return "PCRE2 match error \(code): \(message)"
        }
    }
}
