/// One upstream vendor API and the request paths routed to it (an element of `providers:`).
public struct ProviderSettings: Sendable, Hashable {
    /// `name`, required, unique: used in policy (`roles.*.providers`), metrics and audit records.
    public let name: String
    /// `base_url`, required: where requests go. `https` only unless `allow_insecure_http` is true.
    public let baseURL: UpstreamURL
    /// `paths`, required, non-empty: request path prefixes routed here. Matched on whole segments (see
    /// `matches(path:)`); no prefix may overlap another provider's.
    public let pathPrefixes: [String]
    /// `credential`, required: the vendor key the gateway sets on every forwarded request.
    public let credential: ProviderCredential
    /// `ca_file`, default none: a PEM bundle trusted for this upstream *instead of* the system store.
    public let caFile: ConfiguredPath?
    /// `api_shape`, default inferred (`anthropic` when the name contains "anthropic" or a path is under
    /// `/v1/messages`, else `openai`): which vendor's error shape and body conventions apply.
    public let apiShape: ProviderAPIShape
    /// `pool`: the keep-alive connection pool.
    public let pool: ConnectionPoolSettings
    /// `timeouts`: connect, TLS, first-byte and idle timeouts.
    public let timeouts: UpstreamTimeouts
    /// `allow_insecure_http`, default `false`: permits an `http` base URL, for tests against local fakes only.
    public let allowInsecureHTTP: Bool

    public init(
        name: String, baseURL: UpstreamURL, pathPrefixes: [String], credential: ProviderCredential,
        caFile: ConfiguredPath? = nil, apiShape: ProviderAPIShape, pool: ConnectionPoolSettings = .init(),
        timeouts: UpstreamTimeouts, allowInsecureHTTP: Bool = false
    ) {
        self.name = name
        self.baseURL = baseURL
        self.pathPrefixes = pathPrefixes
        self.credential = credential
        self.caFile = caFile
        self.apiShape = apiShape
        self.pool = pool
        self.timeouts = timeouts
        self.allowInsecureHTTP = allowInsecureHTTP
    }

    /// The longest of this provider's prefixes that `path` falls under, or nil. The query string is ignored.
    public func matchingPrefix(for path: String) -> String? {
        pathPrefixes.filter { RoutePrefix.covers($0, path: path) }.max { $0.utf8.count < $1.utf8.count }
    }

    /// Whether requests for `path` are routed to this provider (checked on every request: no allocation).
    public func matches(path: String) -> Bool { pathPrefixes.contains { RoutePrefix.covers($0, path: path) } }
}

/// Which vendor API conventions a provider follows (`api_shape`).
public enum ProviderAPIShape: String, Sendable, Hashable, CaseIterable {
    /// `{"error":{"message","type","code"}}` errors; `Authorization: Bearer` keys.
    case openai
    /// `{"type":"error","error":{"type","message"}}` errors; `x-api-key` keys.
    case anthropic

    /// The shape a provider has when its configuration does not say.
    static func inferred(name: String, pathPrefixes: [String]) -> ProviderAPIShape {
        if name.lowercased().contains("anthropic") { return .anthropic }
        if pathPrefixes.contains(where: { RoutePrefix.covers("/v1/messages", path: $0) }) { return .anthropic }
        return .openai
    }
}
