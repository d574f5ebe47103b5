import GatewayAudit
import GatewayConfig
import GatewayDocuments
import GatewayRules
import NIOCore
import NIOHTTP1

/// The inspect-body phase: every request body is classified before anything is forwarded.
///
/// Allowed bodies go out byte-identical; redacted bodies replace the original (with `Content-Encoding` dropped
/// when the inspector decoded a compressed body); blocked bodies and any inspection failure end the request.
/// Failing closed is the contract: a body that could not be inspected is never forwarded.
struct ClassificationFilter: GatewayFilter {
    let inspector: BodyInspector
    let deadlineMilliseconds: Int
    /// The deadline of a body that carries documents (`documents.inspection_deadline_ms`): extracting a PDF or a
    /// workbook takes longer than scanning a chat message. It holds from the start for a body that may carry one
    /// (`mayCarryDocuments`), and from the moment inspection finds one for any other body.
    var documentDeadlineMilliseconds: Int = 10_000
    /// The category treatment for a request; per-role overrides plug in here.
    let policyForRequest: @Sendable (RequestContext) -> CategoryPolicy
    /// Header values scanned before and found clean (see `CleanFieldCache`).
    let cleanFields = CleanFieldCache()
    /// The shadow rules (`mode: shadow`): run beside the live ones on every body; what they would do goes into the
    /// record as `shadow`, with no effect on the request. Nil when the rule set has none.
    var shadowInspector: BodyInspector? = nil
    /// Uploads API parts held until their upload is completed (nil: not held; tests that do not need it).
    var heldUploads: HeldUploads? = nil
    /// Which findings hold a request for a person (`review.escalate` in the policy).
    var escalation = ReviewPolicy.Escalation()

    /// Phase 2: what of the head reaches the vendor, the query string and every header field the provider's
    /// allow-list forwards, is scanned too. A header cannot be redacted, so any finding the role does not allow blocks.
    func route(_ head: HTTPRequestHead, context: inout RequestContext, state: inout Void) throws(GatewayError) {
        guard let provider = context.provider else { return }
        let policy = self.policyForRequest(context)
        var texts: [(location: String, text: [UInt8])] = []
        /// The fields scanned now (not known clean), with the location their findings carry.
        var scannedFields: [(name: String, value: String, location: String)] = []
        if let query = context.target.utf8.firstIndex(of: UInt8(ascii: "?")) {
            let raw = Array(context.target.utf8[context.target.utf8.index(after: query)...])
            if !raw.isEmpty { texts.append(("query", PercentEncoding.decode(raw, plusIsSpace: true))) }
        }
        // The path (decoded) travels too, and so does a field's name: a prefix like `x-stainless-*` admits any name.
        let path = context.path
        if !self.cleanFields.isKnownClean(":path", path, confidence: policy.minimumConfidence) {
            texts.append(("path", PercentEncoding.decode(Array(path.utf8), plusIsSpace: false)))
            scannedFields.append((":path", path, "path"))
        }
        for (name, value) in head.headers
        where !HeaderHygiene.isManagedByGateway(name) && provider.forwardHeaders.allows(name)
            && !self.cleanFields.isKnownClean(name, value, confidence: policy.minimumConfidence)
        {
            let location = "header " + name.lowercased()
            texts.append((location, Array((name + ": " + value).utf8)))
            scannedFields.append((name, value, location))
        }
        guard !texts.isEmpty else { return }
        let decision: GatewayRules.Decision
        do {
            decision = try self.inspector.inspect(
                unredactable: texts, policy: policy, deadline: .after(milliseconds: self.deadlineMilliseconds)
            )
        } catch {
            throw Self.gatewayError(for: error)
        }
        // Only a scan that ran to the end vouches for a value: once a request is certain to be blocked, the
        // inspector stops scanning, and the fields it skipped must not be remembered as clean.
        if !decision.isBlocked {
            for (name, value, location) in scannedFields where !decision.findings.contains(where: { $0.location == location }) {
                self.cleanFields.remember(name, value, confidence: policy.minimumConfidence)
            }
        }
        guard case .block(let reason) = decision.verdict else { return }
        context.decision = decision
        throw GatewayError(
            .blockedByPolicy,
            "Request blocked by the AI gateway's data policy: \(reason). Remove the sensitive data and retry "
                + "(request id \(context.requestID))."
        )
    }

    func inspectBody(_ body: inout RequestBody, context: inout RequestContext, state: inout Void) throws(GatewayError) {
        let policy = self.policyForRequest(context)
        // An Uploads API part is held as sent, not judged alone (half a PDF reads as nothing, and a value may
        // straddle two parts): its file is inspected whole when the upload is completed (`UploadHold`).
        if let held = self.heldUploads, let upload = UploadHold.partUpload(context.path) {
            try self.uploadHold(held).holdPart(body, upload: upload, context: &context)
            return
        }
        let bytes = Array(body.bytes.readableBytesView)
        let decision: GatewayRules.Decision
        let milliseconds = Self.mayCarryDocuments(body) ? self.documentDeadlineMilliseconds : self.deadlineMilliseconds
        do {
            decision = try self.inspector.inspect(
                body: bytes, contentType: body.contentType, contentEncoding: body.contentEncoding,
                policy: policy,
                deadline: .after(milliseconds: milliseconds, documents: self.documentDeadlineMilliseconds)
            )
        } catch {
            throw Self.gatewayError(for: error)
        }
        context.decision = decision
        context.model = decision.fields["model"]
        if let shadow = self.shadowInspector {
            context.shadow = Self.shadowOutcome(
                live: decision,
                shadow: try? shadow.inspect(
                    body: bytes, contentType: body.contentType, contentEncoding: body.contentEncoding, policy: policy,
                    deadline: .after(milliseconds: milliseconds, documents: self.documentDeadlineMilliseconds)))
        }
        if !self.escalation.isEmpty,
            let reasons = Self.escalationReasons(decision, escalation: self.escalation, role: context.identity?.role)
        {
            let ticket = RecordID.generate()
            context.escalation = (reasons, ticket)
            throw GatewayError(
                .heldForReview,
                "Request held for review by the AI gateway's data policy (\(reasons.joined(separator: ", "))). Nothing "
                    + "was sent. A reviewer will release or deny it: ticket \(ticket.short) (\(ticket)); once "
                    + "released, resend it with the x-gateway-release token you are given (request id \(context.requestID))."
            )
        }
        switch decision.verdict {
        case .allow:
            break
        case .redact(let rewritten, let encodingRemoved):
            body.bytes = ByteBuffer(bytes: rewritten)
            if encodingRemoved { body.contentEncoding = nil }
        case .block(let reason):
            throw GatewayError(
                .blockedByPolicy,
                "Request blocked by the AI gateway's data policy: \(reason). Remove the sensitive data and retry "
                    + "(request id \(context.requestID))."
            )
        }
        if let held = self.heldUploads, let upload = UploadHold.completedUpload(context.path) {
            try self.uploadHold(held).complete(body, upload: upload, context: &context, policy: policy)
        }
    }

    private func uploadHold(_ held: HeldUploads) -> UploadHold {
        UploadHold(
            held: held, inspector: self.inspector, deadlineMilliseconds: self.documentDeadlineMilliseconds,
            escalation: self.escalation)
    }

    /// Whether a body may carry documents, judged before reading it: multipart, a type other than JSON or text, or
    /// a body past 256 KiB (a JSON body holding a base64 PDF).
    static func mayCarryDocuments(_ body: RequestBody) -> Bool {
        if body.bytes.readableBytes > 256 * 1024 { return true }
        // Compared as ASCII bytes, without lower-casing or a generic substring search: every request asks.
        guard var type = body.contentType, !type.isEmpty else { return false }
        return type.withUTF8 { bytes -> Bool in
            if ByteText.hasWord("multipart/", in: bytes) { return true }
            if ByteText.hasWord("text/plain", in: bytes) { return false }
            // JSON of any kind (`application/json`, `…+json`, `text/json`) is read as JSON, documents found inside.
            for offset in bytes.indices where ByteText.hasWord("json", in: bytes, at: offset) { return false }
            return true
        }
    }

    /// Why the request is held for a person, or nil when it is not: at least one finding escalates
    /// (`ReviewPolicy.Escalation.reason`), no finding that does not escalate blocks it, and nothing but findings
    /// blocks it (an unreadable document, a scan stopped early): a block the policy is sure of stays a block.
    static func escalationReasons(
        _ decision: GatewayRules.Decision, escalation: ReviewPolicy.Escalation, role: String?
    ) -> [String]? {
        guard !decision.blocksBeyondFindings else { return nil }
        var reasons = Set<String>()
        for finding in decision.findings {
            if let reason = escalation.reason(
                category: finding.category.rawValue, rule: finding.ruleID, role: role, confidence: finding.confidence,
                enforced: finding.action != .allow)
            {
                reasons.insert(reason)
            } else if finding.action == .block {
                return nil
            }
        }
        return reasons.isEmpty ? nil : reasons.sorted()
    }

    /// What the request's decision would have been with the shadow rules in force as well: the stricter of the live
    /// verdict and the shadow rules' own. Nil when no shadow rule fired (or their scan did not finish).
    static func shadowOutcome(live: GatewayRules.Decision, shadow: GatewayRules.Decision?) -> ShadowSummary? {
        guard let shadow, !shadow.findings.isEmpty else { return nil }
        let worst = shadow.action.severity > live.action.severity ? shadow.action : live.action
        let decision: GatewayAudit.Decision = switch worst {
        case .allow: .allow
        case .redact: .redact
        case .block: .block
        }
        return ShadowSummary(
            decision: decision, rules: Array(Set(shadow.findings.map(\.ruleID))), findings: shadow.findings.count)
    }

    /// The one answer for each way inspection can fail: 400 for a body that is not what it says, 413 past a size
    /// limit or a bomb, 415 for what cannot be decoded, and a 403 block when inspection could not finish (fail closed).
    static func gatewayError(for error: InspectionError) -> GatewayError {
        switch error {
        case .invalidBody: GatewayError(.badRequest, "The request body could not be inspected: \(error)")
        case .tooLarge: GatewayError(.payloadTooLarge, "The request body is too large to inspect: \(error)")
        case .unsupportedEncoding, .unsupportedMediaType:
            GatewayError(.unsupportedMediaType, "The request body cannot be inspected: \(error)")
        case .engineFailure, .deadlineExceeded:
            GatewayError(
                .blockedByPolicy, "Request blocked: the data inspection did not complete (\(error)); nothing was sent."
            )
        }
    }

}
