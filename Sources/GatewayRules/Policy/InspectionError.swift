/// Why a body could not be inspected. Every case means "do not forward". What each case answers over HTTP is the
/// HTTP layer's business (`ClassificationFilter.gatewayError(for:)` in GatewayCore); this module knows no statuses.
public enum InspectionError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The body is not what its content type says (invalid JSON, malformed multipart, corrupt gzip).
    case invalidBody(String)
    /// A `Content-Encoding` the gateway does not decode.
    case unsupportedEncoding(String)
    /// A content type the gateway cannot inspect and the policy does not let through.
    case unsupportedMediaType(String)
    /// The body, or its decoded form, is larger than the limit, or decompresses at a bomb-like ratio.
    case tooLarge(String)
    /// A rule hit a PCRE2 match/depth/heap/JIT-stack limit or failed: the request is blocked (fail closed).
    case engineFailure(ruleID: String, PCRE2Error)
    /// The per-request inspection deadline passed before the body was fully inspected: blocked (fail closed).
    case deadlineExceeded

    public var description: String {
        switch self {
        case .invalidBody(let why): return "invalid request body: \(why)"
        case .unsupportedEncoding(let encoding): return "unsupported content encoding: \(encoding)"
        case .unsupportedMediaType(let type): return "content type cannot be inspected: \(type)"
        case .tooLarge(let why): return "request body too large: \(why)"
        case .engineFailure(let rule, let error):
            return "blocked: inspection failed in rule \(rule) (\(error)); the request is not forwarded uninspected"
        case .deadlineExceeded: return "blocked: inspection deadline exceeded; the request is not forwarded uninspected"
        }
    }
}
