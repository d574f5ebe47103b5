import GatewayAccess
import GatewayAudit
import GatewayConfig
import GatewayRules
import GatewayTLS
import NIOCore

/// Who is calling. Filled by the authenticate phase; never holds a key, only what identifies it.
public struct CallerIdentity: Sendable, Hashable {
    public var user: String
    public var role: String
    /// The gateway key's id (never the key), when a key authenticated the call.
    public var keyID: String?
    /// The client certificate's SHA-256 fingerprint, when a certificate did.
    public var certificateFingerprint: String?

    public init(user: String, role: String, keyID: String? = nil, certificateFingerprint: String? = nil) {
        self.user = user
        self.role = role
        self.keyID = keyID
        self.certificateFingerprint = certificateFingerprint
    }
}

/// The one value that travels with a request through every phase. Phases read what earlier phases decided and add
/// their own outcome; the complete phase turns it into metrics now and into the decision record later.
public struct RequestContext: Sendable {
    /// The id echoed to the caller in `x-request-id` and recorded everywhere.
    public let requestID: String
    public let startedAt: ContinuousClock.Instant
    public let method: String
    /// The request target as received (path and query).
    public let target: String
    public let clientAddress: String?
    /// The listener's TLS session: protocol, suite, verified client certificate.
    public let tls: TLSHandshakeDetails?

    /// Set by the authenticate phase.
    public var identity: CallerIdentity?
    /// The gateway key verified earlier on this connection, carried from request to request by the connection:
    /// the authenticate phase accepts a repeat of it without parsing and hashing it again (see `KeyStore`).
    public var verifiedKey: VerifiedKey?
    /// Set by the route phase.
    public var provider: ProviderSettings?
    /// A role's tighter body limit, set by the route phase; nil means `limits.max_body_bytes`.
    public var bodyLimit: Int?
    /// The `model` named in the body, when the body is JSON and names one.
    public var model: String?
    /// Set by the inspect-body phase: allow, redact or block, with findings.
    public var decision: GatewayRules.Decision?
    /// Bytes received from the caller, and bytes forwarded after inspection.
    public var requestBytes = 0
    public var forwardedBytes = 0
    /// What the vendor answered, and what the caller got.
    public var upstreamStatus: Int?
    public var responseStatus: Int?
    public var responseBytes = 0
    /// Whether the response was a server-sent event stream.
    public var streamed = false
    /// The failure that ended the request, if any.
    public var error: GatewayError?
    /// How long the inspect-body phase took.
    public var inspectDuration: Duration?
    /// When the request was handed to the vendor; nil when it never was.
    public var upstreamStartedAt: ContinuousClock.Instant?
    /// Whether the request was forwarded to the vendor.
    public var forwarded: Bool { self.upstreamStartedAt != nil }
    /// The decision record written for this request.
    public var auditRecordID: RecordID?
    /// The reviewer's release under which a blocked body was forwarded once.
    public var release: ReleaseGrant?
    /// The tokens the vendor says the request used (`UsageMeter`), for the outcome line.
    public var usage: TokenUsage?
    /// What the shadow rules would have done (recorded, no effect on the request).
    public var shadow: ShadowSummary?
    /// Why the request is held for a person (`review.escalate`), and the ticket it is held under: the id its
    /// decision record will have, so the refusal can name it. Nil when not held.
    public var escalation: (reasons: [String], ticket: RecordID)?
    /// The body as forwarded (redacted), when `review.sampling` picked the request for review after the fact.
    public var sampledBody: ByteBuffer?
    /// The rules and policy the request is decided under (those in force when its head arrived).
    public internal(set) var ruleSet: RuleSetIdentity?
    /// How an admitted request is delivered: forwarded, answered by the gateway, or forwarded after an upload.
    var delivery = Delivery.forward
    /// Whether the decision record written for this request is a forwarding record, which an outcome line completes
    /// (set when it is durable; a refusal's record needs none).
    var recordAwaitsOutcome = false

    public init(
        requestID: String, method: String, target: String, clientAddress: String?, tls: TLSHandshakeDetails?,
        startedAt: ContinuousClock.Instant = .now
    ) {
        self.requestID = requestID
        self.method = method
        self.target = target
        self.clientAddress = clientAddress
        self.tls = tls
        self.startedAt = startedAt
        self.path = target.firstIndex(of: "?").map { String(target[..<$0]) } ?? target
    }

    /// The path without its query string (split once, when the context is made; the target itself when it has no
    /// query, so usually no copy).
    public let path: String

    /// The error shape callers of this request expect.
    var apiShape: ProviderAPIShape { self.provider?.apiShape ?? VendorErrorBody.shape(forPath: self.path) }
}

/// How an admitted request is delivered, once its decision record is durable.
enum Delivery: Sendable {
    /// To the vendor, as phase 4 built it.
    case forward
    /// The gateway answers itself (an Uploads API part it holds); nothing goes to the vendor.
    case answerLocally(LocalAnswer)
    /// An assembled, inspected upload goes to the vendor as the upload's one part first; then the completion is
    /// forwarded with that part's id.
    case forwardAfterUpload([UInt8])

    var localAnswer: LocalAnswer? { if case .answerLocally(let answer) = self { answer } else { nil } }
    var upload: [UInt8]? { if case .forwardAfterUpload(let file) = self { file } else { nil } }
}

/// A response the gateway gives itself: 200 with a JSON body in the vendor's shape.
struct LocalAnswer: Sendable {
    let json: String
    /// The decision record's reason.
    let reason: Reason
}
