/// One upstream vendor API and the request paths routed to it (an element of `providers:`).
public struct ProviderSettings: Sendable, Hashable {
    /// `name`, required, unique: used in policy (`roles.*.providers`), metrics and audit records.
    public var name: String { self.storage.name }
    /// `base_url`, required: where requests go. `https` only unless `allow_insecure_http` is true.
    public var baseURL: UpstreamURL { self.storage.baseURL }
    /// `paths`, required, non-empty: request path prefixes routed here. Matched on whole segments (see
    /// `matches(path:)`); no prefix may overlap another provider's.
    public var pathPrefixes: [String] { self.storage.pathPrefixes }
    /// `credential`, required: the vendor key the gateway sets on every forwarded request.
    public var credential: ProviderCredential { self.storage.credential }
    /// `ca_file`, default none: a PEM bundle trusted for this upstream *instead of* the system store.
    public var caFile: ConfiguredPath? { self.storage.caFile }
    /// `api_shape`, default inferred (`anthropic` when the name contains "anthropic" or a path is under
    /// `/v1/messages`, else `openai`): which vendor's error shape and body conventions apply.
    public var apiShape: ProviderAPIShape { self.storage.apiShape }
    /// `pool`: the keep-alive connection pool.
    public var pool: ConnectionPoolSettings { self.storage.pool }
    /// `timeouts`: connect, TLS, first-byte and idle timeouts.
    public var timeouts: UpstreamTimeouts { self.storage.timeouts }
    /// `allow_insecure_http`, default `false`: permits an `http` base URL, for tests against local fakes only.
    public var allowInsecureHTTP: Bool { self.storage.allowInsecureHTTP }
    /// `forward_headers`, default `HeaderAllowList.defaults(for: apiShape)`: the caller's header fields forwarded.
    public var forwardHeaders: HeaderAllowList { self.storage.forwardHeaders }
    /// `route_header`, default none: a request header (lower-cased) that claims a path this provider shares with
    /// another one. OpenAI's and Anthropic's Files APIs are both `/v1/files`; Anthropic's SDK always sends
    /// `anthropic-version`, so `route_header: anthropic-version` sends those requests here and the rest to the
    /// provider without a route header. Only a shared path consults it.
    public var routeHeader: String? { self.storage.routeHeader }

    /// The settings live in one immutable object: every request's context holds its provider, and copying a
    /// context then costs one reference count instead of one per string and array in here.
    private let storage: Storage

    private final class Storage: Sendable, Hashable {
        let name: String
        let baseURL: UpstreamURL
        let pathPrefixes: [String]
        let credential: ProviderCredential
        let caFile: ConfiguredPath?
        let apiShape: ProviderAPIShape
        let pool: ConnectionPoolSettings
        let timeouts: UpstreamTimeouts
        let allowInsecureHTTP: Bool
        let forwardHeaders: HeaderAllowList
        let routeHeader: String?

        init(
            name: String, baseURL: UpstreamURL, pathPrefixes: [String], credential: ProviderCredential,
            caFile: ConfiguredPath?, apiShape: ProviderAPIShape, pool: ConnectionPoolSettings,
            timeouts: UpstreamTimeouts, allowInsecureHTTP: Bool, forwardHeaders: HeaderAllowList, routeHeader: String?
        ) {
            self.routeHeader = routeHeader
            self.name = name
            self.baseURL = baseURL
            self.pathPrefixes = pathPrefixes
            self.credential = credential
            self.caFile = caFile
            self.apiShape = apiShape
            self.pool = pool
            self.timeouts = timeouts
            self.allowInsecureHTTP = allowInsecureHTTP
            self.forwardHeaders = forwardHeaders
        }

        static func == (lhs: Storage, rhs: Storage) -> Bool {
            lhs === rhs
                || (lhs.name == rhs.name && lhs.baseURL == rhs.baseURL && lhs.pathPrefixes == rhs.pathPrefixes
                    && lhs.credential == rhs.credential && lhs.caFile == rhs.caFile && lhs.apiShape == rhs.apiShape
                    && lhs.pool == rhs.pool && lhs.timeouts == rhs.timeouts
                    && lhs.allowInsecureHTTP == rhs.allowInsecureHTTP && lhs.forwardHeaders == rhs.forwardHeaders
                    && lhs.routeHeader == rhs.routeHeader)
        }

        func hash(into hasher: inout Hasher) {
            hasher.combine(self.name)
            hasher.combine(self.baseURL)
            hasher.combine(self.pathPrefixes)
        }
    }

    public init(
        name: String, baseURL: UpstreamURL, pathPrefixes: [String], credential: ProviderCredential,
        caFile: ConfiguredPath? = nil, apiShape: ProviderAPIShape, pool: ConnectionPoolSettings = .init(),
        timeouts: UpstreamTimeouts, allowInsecureHTTP: Bool = false, forwardHeaders: HeaderAllowList? = nil,
        routeHeader: String? = nil
    ) {
        self.storage = Storage(
            name: name, baseURL: baseURL, pathPrefixes: pathPrefixes, credential: credential, caFile: caFile,
            apiShape: apiShape, pool: pool, timeouts: timeouts, allowInsecureHTTP: allowInsecureHTTP,
            forwardHeaders: forwardHeaders ?? .defaults(for: apiShape), routeHeader: routeHeader?.lowercased()
        )
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
