/// The TLS listener staff point their SDKs at (`listen:`).
public struct ListenerSettings: Sendable, Hashable {
    /// `listen.address`, default `127.0.0.1`. An IP literal or host name to bind.
    public let address: String
    /// `listen.port`, default `8443`. `0` lets the system choose (tests).
    public let port: Int
    /// `listen.tls`.
    public let tls: ListenerTLSSettings
    /// `listen.authentication`, default `key`: what a caller must present.
    public let authentication: AuthenticationMode
    /// `listen.forward_client_address`, default `false`: whether `X-Forwarded-For` is sent to vendors. Off by default
    /// because a vendor has no need to learn staff addresses.
    public let forwardClientAddress: Bool

    public static let defaultAddress = "127.0.0.1"
    public static let defaultPort = 8443

    public init(
        address: String = Self.defaultAddress, port: Int = Self.defaultPort, tls: ListenerTLSSettings,
        authentication: AuthenticationMode = .key, forwardClientAddress: Bool = false
    ) {
        self.address = address
        self.port = port
        self.tls = tls
        self.authentication = authentication
        self.forwardClientAddress = forwardClientAddress
    }
}

/// What a caller must present to be identified (`listen.authentication`).
public enum AuthenticationMode: String, Sendable, Hashable, CaseIterable {
    /// A gateway key in `Authorization: Bearer` or `x-api-key`.
    case key
    /// A client certificate verified against `listen.tls.client_ca` and mapped to a user by the policy.
    case certificate
    /// Either; a key wins when both are presented.
    case keyOrCertificate = "key_or_certificate"
    /// Both, and they must name the same user.
    case keyAndCertificate = "key_and_certificate"

    /// Whether this mode can accept a client certificate, which needs `client_ca`.
    public var usesCertificates: Bool { self != .key }
}

/// Whether the TLS handshake asks for a client certificate (`listen.tls.client_auth`).
public enum ClientAuthMode: String, Sendable, Hashable, CaseIterable {
    /// Never asks; the default without `client_ca`.
    case none
    /// Asks and verifies one if sent, but completes the handshake without; the default with `client_ca`, so key
    /// users keep working while certificate users are identified.
    case optional
    /// The handshake fails without a verified certificate.
    case required
}
