/// The outcome of inspecting one request body.
///
/// Shaped so later features plug in without breaking callers: a human-review verdict can be a new `Verdict` case,
/// restoring pseudonyms in responses can use the `replacement` of each finding, and response-side rules can produce
/// the same `Decision` type.
public struct Decision: Sendable {
    public enum Verdict: Sendable {
        /// Forward the original bytes unchanged.
        case allow
        /// Forward `body` instead of the original; if `contentEncodingRemoved`, the body is no longer compressed
        /// and the caller must drop `Content-Encoding` (and, as always, set `Content-Length` to `body.count`).
        case redact(body: [UInt8], contentEncodingRemoved: Bool)
        /// Do not forward. `reason` is safe to show the client (no values, only types and locations).
        case block(reason: String)
    }

    public let verdict: Verdict
    /// Every finding, in body order, including those the policy allowed.
    public let findings: [Finding]
    /// Bytes of decoded text that were scanned (for metrics).
    public let inspectedBytes: Int
    /// The top-level string members of a JSON body the inspector was asked to report (`BodyInspector.fieldNames`),
    /// decoded, from the same walk that inspected the body.
    public let fields: [String: String]
    /// The documents the body carried (uploads, data URLs, base64 fields, remote files), in body order.
    public let documents: [DocumentSummary]
    /// Whether the verdict rests on more than `findings`: a block for a document that could not be read or
    /// redacted, or for a body that cannot be rewritten, or a scan that stopped early once the block was certain (so
    /// `findings` may not be all there is). Such a decision is never held for a person: only findings are.
    public let blocksBeyondFindings: Bool

    public init(verdict: Verdict, findings: [Finding], inspectedBytes: Int, fields: [String: String] = [:],
                documents: [DocumentSummary] = [], blocksBeyondFindings: Bool = false)
    {
        self.blocksBeyondFindings = blocksBeyondFindings
        self.verdict = verdict
        self.findings = findings
        self.inspectedBytes = inspectedBytes
        self.fields = fields
        self.documents = documents
    }

    /// Whether something is forwarded unread because the role allows uninspectable content.
    public var forwardsUninspected: Bool {
        !self.isBlocked && self.documents.contains { $0.outcome == .uninspected }
    }

    /// The verdict's action: what the request's most severe finding asked for.
    public var action: CategoryAction {
        switch self.verdict {
        case .allow: .allow
        case .redact: .redact
        case .block: .block
        }
    }

    public var isBlocked: Bool {
        if case .block = self.verdict { return true }
        return false
    }

    /// The bytes to forward given the original body: the original for allow (byte-identical), the rewritten body for
    /// redact, nil for block.
    public func forwardedBody(original: [UInt8]) -> [UInt8]? {
        switch self.verdict {
        case .allow: return original
        case .redact(let body, _): return body
        case .block: return nil
        }
    }
}
