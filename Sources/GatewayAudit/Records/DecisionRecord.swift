/// One request's decision: who sent what kind of data where, and what the gateway did.
///
/// Contract: a record holds only identifiers, labels, counts and digests. It has **no** field for a body, prompt,
/// header, key or matched value, and every free string is cut by `SafeLabel` (reasons are `ReasonCode`s), so the type
/// cannot carry sensitive content even by mistake. The JSON keys are exactly the stored properties below
/// (`DecisionRecord.CodingKeys`), checked by a test.
///
/// The gateway writes one per request: at decision time, durably, before anything is forwarded or a refusal is
/// answered. For forwarded requests the upstream status, response size and timings follow in a `RequestOutcome`
/// with the same `id` (see docs/audit.md).
public struct DecisionRecord: Sendable, Hashable, Codable {
    /// The record schema version; bump on any incompatible change.
    public static let currentSchema = 1

    public var schema: Int
    /// Time-ordered id (UUIDv7 layout); the quarantine and the review flow refer to it.
    public var id: RecordID
    /// UTC time of the decision, with milliseconds (`UTCTime`).
    public var time: String
    /// The `x-request-id` answered to the caller.
    public var requestID: String
    /// The gateway instance that decided (host name or configured name).
    public var instance: String
    public var clientAddress: String?
    /// Absent when the request was refused before authentication succeeded.
    public var identity: Identity?
    public var provider: String?
    public var method: String
    /// The request path, without its query string.
    public var path: String
    public var model: String?
    public var decision: Decision
    public var reason: ReasonCode
    /// The HTTP status the gateway answered, when it answered itself (refusals); nil when forwarded.
    public var status: Int?
    public var findings: [FindingSummary]
    /// Bytes received from the caller, and bytes forwarded after inspection (0 when nothing was forwarded).
    public var bytesIn: Int
    public var bytesForwarded: Int
    /// Milliseconds spent authenticating, routing and inspecting, up to this decision.
    public var inspectMs: Double?
    /// SHA-256 (hex) of the compiled rule set and of the policy in force.
    public var ruleSetHash: String?
    public var policyHash: String?
    /// Whether the body was kept in the quarantine under `id`.
    public var quarantined: Bool
    /// For `decision == .released`: the release that let this body through.
    public var release: ReleaseReference?
    /// The documents the body carried (uploads, data URLs, files a vendor fetches): type, size, pages, findings and
    /// outcome each, never text. Absent when there were none.
    public var documents: [DocumentEntry]?
    /// What the shadow rules (`mode: shadow`) would have done: their decision, the rules that fired, and how many
    /// findings. No effect on the request. Absent when no shadow rule fired.
    public var shadow: ShadowSummary?
    /// For `decision == .review`: why the request was held for a person (`category:pci`, `rule:…`, `role:…`,
    /// `confidence<0.7`), sorted. Absent otherwise.
    public var escalation: [String]?
    /// Whether the forwarded (redacted) body was kept, encrypted, for review after the fact (`review.sampling`).
    /// Absent when it was not.
    public var sampled: Bool?

    public init(
        id: RecordID = .generate(), time: String = UTCTime.format(milliseconds: UTCTime.nowMilliseconds()),
        requestID: String, instance: String, clientAddress: String?, identity: Identity?, provider: String?,
        method: String, target: String, model: String?, decision: Decision, reason: ReasonCode, status: Int? = nil,
        findings: [FindingSummary] = [], bytesIn: Int, bytesForwarded: Int = 0, inspectMs: Double? = nil,
        ruleSetHash: String?, policyHash: String?, quarantined: Bool = false, release: ReleaseReference? = nil
    ) {
        self.schema = Self.currentSchema
        self.id = id
        self.time = time
        self.requestID = SafeLabel.clean(requestID, limit: 64)
        self.instance = SafeLabel.clean(instance, limit: 64)
        self.clientAddress = SafeLabel.clean(clientAddress, limit: 64)
        self.identity = identity
        self.provider = SafeLabel.clean(provider, limit: 64)
        self.method = SafeLabel.clean(method, limit: 16)
        self.path = SafeLabel.path(target)
        self.model = SafeLabel.clean(model)
        self.decision = decision
        self.reason = reason
        self.status = status
        self.findings = findings
        self.bytesIn = bytesIn
        self.bytesForwarded = bytesForwarded
        self.inspectMs = inspectMs
        self.ruleSetHash = SafeLabel.clean(ruleSetHash, limit: 64)
        self.policyHash = SafeLabel.clean(policyHash, limit: 64)
        self.quarantined = quarantined
        self.release = release
    }
}

/// One document of a request, as its decision record lists it.
public struct DocumentEntry: Sendable, Hashable, Codable {
    /// Where it was in the request (a JSON path or multipart part).
    public var location: String
    /// `pdf`, `docx`, `xlsx`, `pptx`, `zip`, `email`, `html`, `rtf`, `json`, `jsonl`, `text`, an image format,
    /// `binary`, or `remote` (a URL the vendor fetches).
    public var format: String
    public var bytes: Int
    public var pages: Int?
    public var findings: Int
    /// `inspected`, `rewritten` (a text document redacted), `refused` (unreadable or unredactable: the request is
    /// blocked), or `uninspected` (unreadable, forwarded because the role allows it).
    public var outcome: String
    /// Why it, or parts of it, could not be read (`page 3: it is encrypted`); the gateway's own words, no contents.
    public var unreadable: [String]?

    public init(location: String, format: String, bytes: Int, pages: Int?, findings: Int, outcome: String,
                unreadable: [String]?)
    {
        self.location = SafeLabel.clean(location, limit: 256)
        self.format = SafeLabel.clean(format, limit: 16)
        self.bytes = bytes
        self.pages = pages
        self.findings = findings
        self.outcome = SafeLabel.clean(outcome, limit: 16)
        self.unreadable = unreadable.map { Array($0.prefix(16)).map { SafeLabel.clean($0, limit: 256) } }
    }
}

/// What the gateway decided for a request.
public enum Decision: String, Sendable, Hashable, Codable, CaseIterable {
    /// Forwarded unchanged.
    case allow
    /// Forwarded with values replaced.
    case redact
    /// Refused because of the body's content (403); the body may be quarantined.
    case block
    /// Refused before inspection: authentication, role, route, limits, rate, audit unavailable (4xx/503).
    case refused
    /// Failed: inspection could not finish (fail closed), or the upstream failed.
    case error
    /// A previously blocked body forwarded once under a reviewer's release token.
    case released
    /// Held for a person (`review.escalate`): refused for now with a ticket (the record id), its body quarantined
    /// until a reviewer releases or denies it.
    case review
    /// Forwarded although some of its content could not be inspected (an encrypted document, an image without OCR,
    /// a file the vendor fetches): the role allows uninspected uploads.
    case uninspected
}

/// Who made the request. Never a key or a certificate, only their ids.
public struct Identity: Sendable, Hashable, Codable {
    public var user: String
    public var role: String
    /// The gateway key's id (the `gwk_<id>_…` part), never the key.
    public var keyID: String?
    /// SHA-256 fingerprint of a verified client certificate.
    public var certificateFingerprint: String?

    public init(user: String, role: String, keyID: String? = nil, certificateFingerprint: String? = nil) {
        self.user = SafeLabel.clean(user)
        self.role = SafeLabel.clean(role, limit: 64)
        self.keyID = SafeLabel.clean(keyID, limit: 64)
        self.certificateFingerprint = SafeLabel.clean(certificateFingerprint, limit: 128)
    }
}

/// One kind of finding in the body, aggregated: the same rule at the same JSON path with the same fingerprint is
/// one summary with a count.
public struct FindingSummary: Sendable, Hashable, Codable {
    public var ruleID: String
    /// `secret`, `personal`, `payment`, … (the rule's category).
    public var category: String
    /// The data type, e.g. `email`, `github_token`.
    public var type: String
    /// The JSON path of the text, e.g. `messages[1].content`; `$` for a whole text body.
    public var location: String
    public var confidence: Double
    public var count: Int
    /// The inspector's keyed fingerprint (HMAC, truncated): equal values give equal fingerprints, nothing more.
    public var fingerprint: String
    /// A masked rendering such as `****1111`; at most 24 characters are kept.
    public var preview: String
    /// What the policy did: `allow`, `redact` or `block`.
    public var action: String

    public init(
        ruleID: String, category: String, type: String, location: String, confidence: Double, count: Int = 1,
        fingerprint: String, preview: String, action: String
    ) {
        self.ruleID = SafeLabel.clean(ruleID, limit: 64)
        self.category = SafeLabel.clean(category, limit: 32)
        self.type = SafeLabel.clean(type, limit: 64)
        self.location = SafeLabel.clean(location, limit: 256)
        self.confidence = confidence
        self.count = count
        self.fingerprint = SafeLabel.clean(fingerprint, limit: 64)
        self.preview = SafeLabel.clean(preview, limit: 24)
        self.action = SafeLabel.clean(action, limit: 16)
    }

    /// Merges findings that share rule, location and fingerprint into one summary each, summing counts; order of
    /// first appearance is kept.
    public static func aggregate(_ findings: [FindingSummary]) -> [FindingSummary] {
        var order: [String] = []
        var merged: [String: FindingSummary] = [:]
        for finding in findings {
            let key = "\(finding.ruleID)\u{1}\(finding.location)\u{1}\(finding.fingerprint)"
            if var existing = merged[key] {
                existing.count += finding.count
                existing.confidence = max(existing.confidence, finding.confidence)
                merged[key] = existing
            } else {
                order.append(key)
                merged[key] = finding
            }
        }
        return order.compactMap { merged[$0] }
    }
}

/// Names the release a `released` record used.
/// The would-be outcome of the shadow rules for one request (see `DecisionRecord.shadow`).
public struct ShadowSummary: Sendable, Hashable, Codable {
    /// The decision the request would have had with the shadow rules in force (the live rules' findings included).
    public var decision: Decision
    /// The shadow rules that fired, sorted.
    public var rules: [String]
    public var findings: Int

    public init(decision: Decision, rules: [String], findings: Int) {
        self.decision = decision
        self.rules = rules.map { SafeLabel.clean($0, limit: 64) }.sorted()
        self.findings = findings
    }
}

public struct ReleaseReference: Sendable, Hashable, Codable {
    /// The blocked record whose quarantined body was released.
    public var blockedRecord: RecordID
    public var tokenID: String
    public var reviewer: String

    public init(blockedRecord: RecordID, tokenID: String, reviewer: String) {
        self.blockedRecord = blockedRecord
        self.tokenID = SafeLabel.clean(tokenID, limit: 64)
        self.reviewer = SafeLabel.clean(reviewer)
    }
}
