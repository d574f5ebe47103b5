/// What one caller connection may hold of the gateway, and for how long (`limits:`, beside the size limits). Every
/// wait a caller controls has a timeout, and what callers can make the gateway buffer has a bound: a hostile or
/// broken client costs one connection slot for a bounded time, never the service.
public struct ConnectionLimits: Sendable, Hashable {
    /// `tls_handshake_timeout_seconds`, default 10: from accept to a finished TLS handshake.
    public var tlsHandshakeSeconds: Int
    /// `request_head_timeout_seconds`, default 30: from a request's first byte to its complete head.
    public var requestHeadSeconds: Int
    /// `request_body_timeout_seconds`, default 60: from a complete head to the body's last byte.
    public var requestBodySeconds: Int
    /// `keep_alive_timeout_seconds`, default 75: an idle connection between requests.
    public var keepAliveSeconds: Int
    /// `max_connections`, default nil: derived at start-up from the process's file-descriptor limit (see
    /// `GatewayRuntime`). Connections past it are closed as they are accepted; open ones are unaffected.
    public var maxConnections: Int?
    /// `max_buffered_body_bytes`, default 536870912 (512 MiB): request bodies held for inspection, all connections
    /// together. A body that would go past it is refused with 503 and `Retry-After`; bodies already held finish.
    public var maxBufferedBodyBytes: Int
    /// `inspection_threads`, default nil: cores − 1 (at least 1). Threads that inspect large bodies, so that
    /// hostile uploads queue among themselves instead of taking every core from the event loops.
    public var inspectionThreads: Int?

    public static let defaultTLSHandshakeSeconds = 10
    public static let defaultRequestHeadSeconds = 30
    public static let defaultRequestBodySeconds = 60
    public static let defaultKeepAliveSeconds = 75
    public static let defaultMaxBufferedBodyBytes = 536_870_912

    public init(
        tlsHandshakeSeconds: Int = Self.defaultTLSHandshakeSeconds,
        requestHeadSeconds: Int = Self.defaultRequestHeadSeconds,
        requestBodySeconds: Int = Self.defaultRequestBodySeconds,
        keepAliveSeconds: Int = Self.defaultKeepAliveSeconds, maxConnections: Int? = nil,
        maxBufferedBodyBytes: Int = Self.defaultMaxBufferedBodyBytes, inspectionThreads: Int? = nil
    ) {
        self.tlsHandshakeSeconds = tlsHandshakeSeconds
        self.requestHeadSeconds = requestHeadSeconds
        self.requestBodySeconds = requestBodySeconds
        self.keepAliveSeconds = keepAliveSeconds
        self.maxConnections = maxConnections
        self.maxBufferedBodyBytes = maxBufferedBodyBytes
        self.inspectionThreads = inspectionThreads
    }
}
