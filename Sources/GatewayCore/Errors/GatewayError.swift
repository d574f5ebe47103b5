import NIOHTTP1

/// Who caused a failure. The source decides the status family and whether the vendor is to blame.
public enum ErrorSource: String, Sendable, Hashable {
    /// The caller sent something we refuse (bad HTTP, too large, unknown path).
    case client
    /// The vendor could not be reached, answered badly or too slowly.
    case upstream
    /// A rule or role refused the request (sensitive data, access control).
    case policy
    /// A fault of the gateway itself.
    case `internal`
}

/// A failure of one request, typed by kind. Each kind maps to exactly one HTTP status and one vendor error type;
/// the message is safe to show the caller (it never holds request content, keys or internal detail).
public struct GatewayError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        case badRequest, unauthorized, forbidden, notFound, methodNotAllowed, payloadTooLarge, unsupportedMediaType
        case headersTooLarge, rateLimited, blockedByPolicy, heldForReview, expectationFailed, notImplemented
        case upstreamUnavailable, upstreamTimeout, upstreamProtocol
        case internalFailure, shuttingDown, auditUnavailable, overloaded
    }

    public let kind: Kind
    public let message: String
    /// Seconds the caller should wait before retrying (429, and 503 when the gateway is overloaded).
    public let retryAfterSeconds: Int?
    /// What the operator needs and the caller must not see (an OpenSSL error string, a peer's address): kept in
    /// logs and decision records, never in the answer.
    public let detail: String?

    public init(_ kind: Kind, _ message: String, retryAfterSeconds: Int? = nil, detail: String? = nil) {
        self.kind = kind
        self.message = message
        self.retryAfterSeconds = retryAfterSeconds
        self.detail = detail
    }

    public var source: ErrorSource {
        switch self.kind {
        case .badRequest, .unauthorized, .notFound, .methodNotAllowed, .payloadTooLarge, .unsupportedMediaType,
            .headersTooLarge, .rateLimited, .expectationFailed, .notImplemented:
            .client
        case .forbidden, .blockedByPolicy, .heldForReview: .policy
        case .upstreamUnavailable, .upstreamTimeout, .upstreamProtocol: .upstream
        case .internalFailure, .shuttingDown, .auditUnavailable, .overloaded: .internal
        }
    }

    public var status: HTTPResponseStatus {
        switch self.kind {
        case .badRequest: .badRequest
        case .unauthorized: .unauthorized
        case .forbidden, .blockedByPolicy, .heldForReview: .forbidden
        case .notFound: .notFound
        case .methodNotAllowed: .methodNotAllowed
        case .payloadTooLarge: .payloadTooLarge
        case .unsupportedMediaType: .unsupportedMediaType
        case .headersTooLarge: .requestHeaderFieldsTooLarge
        case .rateLimited: .tooManyRequests
        case .expectationFailed: .expectationFailed
        case .notImplemented: .notImplemented
        case .upstreamUnavailable, .upstreamProtocol: .badGateway
        case .upstreamTimeout: .gatewayTimeout
        case .internalFailure: .internalServerError
        case .shuttingDown, .auditUnavailable, .overloaded: .serviceUnavailable
        }
    }

    public var description: String {
        "\(self.kind.rawValue) (\(self.source.rawValue)): \(self.message)" + (self.detail.map { " [\($0)]" } ?? "")
    }
}
