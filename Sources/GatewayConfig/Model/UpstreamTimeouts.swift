/// Time limits for one upstream exchange (`providers[].timeouts`); exceeding one gives the caller 504.
public struct UpstreamTimeouts: Sendable, Hashable {
    /// `connect_seconds`, default `10`: TCP connect.
    public let connectSeconds: Int
    /// `tls_seconds`, default `10`: TLS handshake after connect.
    public let tlsSeconds: Int
    /// `first_byte_seconds`, default `limits.upstream_timeout_seconds`: from the request's last byte to the
    /// response's first; long because a model may think for minutes before answering.
    public let firstByteSeconds: Int
    /// `idle_seconds`, default `300`: the longest silence between two response chunks of a stream.
    public let idleSeconds: Int

    public static let defaultConnectSeconds = 10
    public static let defaultTLSSeconds = 10
    public static let defaultIdleSeconds = 300

    public init(
        connectSeconds: Int = Self.defaultConnectSeconds, tlsSeconds: Int = Self.defaultTLSSeconds,
        firstByteSeconds: Int, idleSeconds: Int = Self.defaultIdleSeconds
    ) {
        self.connectSeconds = connectSeconds
        self.tlsSeconds = tlsSeconds
        self.firstByteSeconds = firstByteSeconds
        self.idleSeconds = idleSeconds
    }
}
