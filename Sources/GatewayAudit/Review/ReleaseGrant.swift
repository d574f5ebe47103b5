/// One release of a quarantined body, as kept in the ledger. Holds the token's digest, never the token.
public struct ReleaseGrant: Sendable, Hashable, Codable {
    public enum State: String, Sendable, Hashable, Codable {
        case issued, consumed, revoked
    }

    /// The public half of the token (`gwr_<tokenID>_<secret>`).
    public var tokenID: String
    /// SHA-256 (hex) of the whole token.
    public var tokenDigest: String
    /// The blocked record whose body may pass.
    public var recordID: RecordID
    /// The exact body (SHA-256 hex) and sender the token is bound to.
    public var bodySHA256: String
    public var sender: Sender
    public var reviewer: String
    public var reason: String
    public var issued: String
    public var expires: String
    public var state: State
    /// When it was consumed.
    public var consumed: String?
}

/// Why a release could not be issued or redeemed.
public enum ReleaseError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Not a `gwr_…` token.
    case malformedToken
    /// No such token, or its secret does not match.
    case unknownToken
    case expired
    /// Single use: already consumed (or revoked by a deny).
    case alreadyUsed
    /// The body differs from the quarantined one.
    case bodyMismatch
    /// Someone other than the original sender presented it.
    case senderMismatch
    /// A reviewer denied this record; no release is possible.
    case denied(RecordID)
    /// Four-eyes rule: the reviewer is the sender.
    case fourEyes
    /// A sampled body was forwarded already: there is nothing to release (label it instead).
    case sampled(RecordID)
    case storage(AuditError)

    public var description: String {
        switch self {
        case .malformedToken: return "not a release token"
        case .unknownToken: return "unknown release token"
        case .expired: return "release token expired"
        case .alreadyUsed: return "release token already used or revoked"
        case .bodyMismatch: return "body differs from the quarantined body the token releases"
        case .senderMismatch: return "release token was issued to another sender"
        case .denied(let id): return "record \(id) was denied by a reviewer"
        case .fourEyes: return "four-eyes rule: a reviewer cannot release their own request"
        case .sampled(let id): return "record \(id) was forwarded and sampled for review; there is nothing to release (use review label)"
        case .storage(let error): return error.description
        }
    }
}

/// The ledger file's content.
struct LedgerFile: Codable {
    var grants: [ReleaseGrant] = []
    /// Denied record ids → reviewer.
    var denied: [String: String] = [:]
}
