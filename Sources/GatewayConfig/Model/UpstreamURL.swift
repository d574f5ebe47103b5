import Foundation

/// A provider's `base_url`, split into what connecting and forwarding need.
public struct UpstreamURL: Sendable, Hashable, CustomStringConvertible {
    /// `https` or, only with `allow_insecure_http`, `http`.
    public let scheme: String
    /// Host name or IP literal (without brackets); also the TLS server name and the forwarded `Host`.
    public let host: String
    /// The explicit port, or 443 / 80 by scheme.
    public let port: Int
    /// A path prepended to every forwarded request path, without a trailing slash; empty for the root.
    public let basePath: String

    public var isTLS: Bool { scheme == "https" }

    /// The `Host` header value: the port is included only when it is not the scheme's default. Computed once; it
    /// is set on every forwarded request.
    public let hostHeader: String

    public var description: String { "\(scheme)://\(hostHeader)\(basePath)" }

    /// The path to send upstream for a request `path` (which starts with `/`).
    public func upstreamPath(for path: String) -> String { basePath + path }

    public init(scheme: String, host: String, port: Int, basePath: String) {
        self.scheme = scheme
        self.host = host
        self.port = port
        self.basePath = basePath
        let printedHost = host.contains(":") ? "[\(host)]" : host
        self.hostHeader = port == (scheme == "https" ? 443 : 80) ? printedHost : "\(printedHost):\(port)"
    }

    /// Why a `base_url` was refused.
    enum ParseFailure: Error {
        case malformed, unsupportedScheme(String), insecure, missingHost, userInfo, queryOrFragment

        var message: String {
            switch self {
            case .malformed: "is not a URL (expected e.g. https://api.openai.com)"
            case .unsupportedScheme(let scheme): "scheme '\(scheme)' is not supported: use https"
            case .insecure: "must use https (allow_insecure_http: true permits http, for tests only)"
            case .missingHost: "has no host"
            case .userInfo: "must not contain a user name or password: put credentials under 'credential'"
            case .queryOrFragment: "must not contain a query or fragment"
            }
        }
    }

    static func parse(_ text: String, allowInsecureHTTP: Bool) -> Result<UpstreamURL, ParseFailure> {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased() else {
            return .failure(.malformed)
        }
        switch scheme {
        case "https": break
        case "http": if !allowInsecureHTTP { return .failure(.insecure) }
        default: return .failure(.unsupportedScheme(scheme))
        }
        guard let host = components.host, !host.isEmpty else { return .failure(.missingHost) }
        if components.user != nil || components.password != nil { return .failure(.userInfo) }
        if components.query != nil || components.fragment != nil { return .failure(.queryOrFragment) }
        let unbracketed = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        var basePath = components.percentEncodedPath
        while basePath.hasSuffix("/") { basePath.removeLast() }
        let port = components.port ?? (scheme == "https" ? 443 : 80)
        return .success(UpstreamURL(scheme: scheme, host: unbracketed.lowercased(), port: port, basePath: basePath))
    }
}
