/// The keep-alive connection pool to one provider (`providers[].pool`).
public struct ConnectionPoolSettings: Sendable, Hashable {
    /// `max_connections`, default `64`: open connections (idle and busy) to this upstream; requests beyond wait.
    public let maxConnections: Int
    /// `idle_timeout_seconds`, default `60`: an idle pooled connection is closed after this long, before the
    /// vendor's own keep-alive timeout would close it under a request.
    public let idleTimeoutSeconds: Int

    public static let defaultMaxConnections = 64
    public static let defaultIdleTimeoutSeconds = 60

    public init(maxConnections: Int = Self.defaultMaxConnections, idleTimeoutSeconds: Int = Self.defaultIdleTimeoutSeconds) {
        self.maxConnections = maxConnections
        self.idleTimeoutSeconds = idleTimeoutSeconds
    }
}
