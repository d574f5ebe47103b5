import Foundation
import GatewayConfig
import NIOCore

/// Error bodies in the vendor's own shape, so SDKs surface our message as they would the vendor's.
///
/// - OpenAI: `{"error":{"message":…,"type":…,"code":…}}`
/// - Anthropic: `{"type":"error","error":{"type":…,"message":…}}`
enum VendorErrorBody {
    static func render(_ error: GatewayError, shape: ProviderAPIShape) -> String {
        let message = jsonString(error.message)
        switch shape {
        case .openai:
            return #"{"error":{"message":\#(message),"type":"\#(openAIType(error.kind))","code":"\#(code(error.kind))"}}"#
        case .anthropic:
            return #"{"type":"error","error":{"type":"\#(anthropicType(error.kind))","message":\#(message)}}"#
        }
    }

    /// The shape to use before a route is known: Anthropic's paths get Anthropic's shape.
    static func shape(forPath path: String) -> ProviderAPIShape {
        path.hasPrefix("/v1/messages") || path.hasPrefix("/v1/complete") ? .anthropic : .openai
    }

    private static func openAIType(_ kind: GatewayError.Kind) -> String {
        switch kind {
        case .unauthorized: "authentication_error"
        case .forbidden, .blockedByPolicy, .heldForReview: "permission_error"
        case .rateLimited: "rate_limit_error"
        case .upstreamUnavailable, .upstreamTimeout, .upstreamProtocol, .internalFailure, .shuttingDown, .auditUnavailable,
            .overloaded:
            "api_error"
        default: "invalid_request_error"
        }
    }

    private static func anthropicType(_ kind: GatewayError.Kind) -> String {
        switch kind {
        case .unauthorized: "authentication_error"
        case .forbidden, .blockedByPolicy, .heldForReview: "permission_error"
        case .notFound: "not_found_error"
        case .payloadTooLarge: "request_too_large"
        case .rateLimited: "rate_limit_error"
        case .upstreamTimeout, .shuttingDown, .auditUnavailable, .overloaded: "overloaded_error"
        case .upstreamUnavailable, .upstreamProtocol, .internalFailure: "api_error"
        default: "invalid_request_error"
        }
    }

    private static func code(_ kind: GatewayError.Kind) -> String {
        switch kind {
        case .blockedByPolicy: "sensitive_data_blocked"
        case .heldForReview: "held_for_review"
        case .upstreamUnavailable: "upstream_unavailable"
        case .upstreamTimeout: "upstream_timeout"
        case .upstreamProtocol: "upstream_protocol_error"
        default: kind.rawValue.snakeCased
        }
    }

    /// A JSON string literal for `text`.
    static func jsonString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

extension String {
    fileprivate var snakeCased: String {
        var out = ""
        for character in self {
            if character.isUppercase {
                out += "_" + character.lowercased()
            } else {
                out.append(character)
            }
        }
        return out
    }
}
