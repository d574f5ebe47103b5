import GatewayAudit

/// The closed set of reasons a decision record (`reason`) or an outcome (`error`) may carry. Every code the gateway
/// writes is a case here, documented in docs/audit.md and pinned by a test; `ReasonCode` stays the record's
/// open type so records written by earlier versions still read.
enum Reason: String, CaseIterable, Sendable {
    // Forwarded
    case clean = "clean"
    case ruleMatchAllowed = "rule_match.allowed"
    case ruleMatchRedacted = "rule_match.redacted"
    case documentUninspected = "document.uninspected"
    case reviewReleased = "review.released"
    case uploadPartHeld = "upload.part_held"
    // Refused for content
    case ruleMatchBlocked = "rule_match.blocked"
    case reviewHeld = "review.held"
    // Refused before or around inspection
    case authRefused = "auth.refused"
    case accessForbidden = "access.forbidden"
    case accessRateLimited = "access.rate_limited"
    case clientBadRequest = "client.bad_request"
    case clientNotFound = "client.not_found"
    case clientMethodNotAllowed = "client.method_not_allowed"
    case clientPayloadTooLarge = "client.payload_too_large"
    case clientUnsupportedMediaType = "client.unsupported_media_type"
    case clientHeadersTooLarge = "client.headers_too_large"
    case clientExpectationFailed = "client.expectation_failed"
    case clientNotImplemented = "client.not_implemented"
    // Failed
    case upstreamUnavailable = "upstream.unavailable"
    case upstreamTimeout = "upstream.timeout"
    case upstreamProtocol = "upstream.protocol"
    case internalFailure = "internal.failure"
    case internalShuttingDown = "internal.shutting_down"
    case internalAuditUnavailable = "internal.audit_unavailable"
    case internalOverloaded = "internal.overloaded"

    var code: ReasonCode { ReasonCode(self.rawValue) }

    /// The reason for a refusal or failure, by its kind (every kind has one: a new kind does not compile without).
    init(_ error: GatewayError) {
        switch error.kind {
        case .blockedByPolicy: self = .ruleMatchBlocked
        case .heldForReview: self = .reviewHeld
        case .unauthorized: self = .authRefused
        case .forbidden: self = .accessForbidden
        case .rateLimited: self = .accessRateLimited
        case .badRequest: self = .clientBadRequest
        case .notFound: self = .clientNotFound
        case .methodNotAllowed: self = .clientMethodNotAllowed
        case .payloadTooLarge: self = .clientPayloadTooLarge
        case .unsupportedMediaType: self = .clientUnsupportedMediaType
        case .headersTooLarge: self = .clientHeadersTooLarge
        case .expectationFailed: self = .clientExpectationFailed
        case .notImplemented: self = .clientNotImplemented
        case .upstreamUnavailable: self = .upstreamUnavailable
        case .upstreamTimeout: self = .upstreamTimeout
        case .upstreamProtocol: self = .upstreamProtocol
        case .internalFailure: self = .internalFailure
        case .shuttingDown: self = .internalShuttingDown
        case .auditUnavailable: self = .internalAuditUnavailable
        case .overloaded: self = .internalOverloaded
        }
    }
}
