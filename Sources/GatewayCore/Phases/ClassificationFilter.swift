import GatewayRules
import NIOCore

/// The inspect-body phase: every request body is classified before anything is forwarded.
///
/// Allowed bodies go out byte-identical; redacted bodies replace the original (with `Content-Encoding` dropped
/// when the inspector decoded a compressed body); blocked bodies and any inspection failure end the request.
/// Failing closed is the contract: a body that could not be inspected is never forwarded.
struct ClassificationFilter: GatewayFilter {
    let inspector: BodyInspector
    let deadlineMilliseconds: Int
    /// The category treatment for a request; per-role overrides plug in here.
    let policyForRequest: @Sendable (RequestContext) -> CategoryPolicy

    func inspectBody(_ body: inout RequestBody, context: inout RequestContext) throws(GatewayError) {
        let bytes = Array(body.bytes.readableBytesView)
        let decision: Decision
        do {
            decision = try self.inspector.inspect(
                body: bytes, contentType: body.contentType, contentEncoding: body.contentEncoding,
                policy: self.policyForRequest(context), deadline: .after(milliseconds: self.deadlineMilliseconds)
            )
        } catch {
            throw Self.gatewayError(for: error)
        }
        context.decision = decision
        context.model = decision.fields["model"]
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
    }

    static func gatewayError(for error: InspectionError) -> GatewayError {
        switch error.suggestedStatus {
        case 400: GatewayError(.badRequest, "The request body could not be inspected: \(error)")
        case 413: GatewayError(.payloadTooLarge, "The request body is too large to inspect: \(error)")
        case 415: GatewayError(.unsupportedMediaType, "The request body cannot be inspected: \(error)")
        default:
            GatewayError(
                .blockedByPolicy, "Request blocked: the data inspection did not complete (\(error)); nothing was sent."
            )
        }
    }
}
