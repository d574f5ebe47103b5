/// TLS of the listener (`listen.tls`).
public struct ListenerTLSSettings: Sendable, Hashable {
    /// A listener file that did not exist at load time.
    public enum MaterialFile: String, Sendable, Hashable, CaseIterable {
        case certificate, key, clientCA = "client_ca"
    }

    /// `listen.tls.certificate`, default `certs/server.pem`: the PEM chain, leaf first.
    public let certificate: ConfiguredPath
    /// `listen.tls.key`, default `certs/server.key`: the PEM private key.
    public let key: ConfiguredPath
    /// `listen.tls.client_ca`, default none: the CA bundle client certificates are verified against.
    public let clientCA: ConfiguredPath?
    /// `listen.tls.client_auth`, default `optional` when `client_ca` is set, otherwise `none`.
    public let clientAuth: ClientAuthMode
    /// `listen.tls.session_tickets`, default `true`: TLS 1.3 resumption tickets.
    public let sessionTickets: Bool
    /// `listen.tls.ticket_key_rotation_seconds`, default `3600`: how long one ticket key encrypts new tickets.
    public let ticketKeyRotationSeconds: Int
    /// Listener files missing at load time. The contract: either empty, or it contains both `.certificate` and
    /// `.key` (possibly `.clientCA` too) and `gatewayd` creates development certificates for exactly these paths.
    /// A certificate without its key (or the reverse, or a missing `client_ca` next to an existing certificate) is
    /// a problem instead, because generating half a pair would silently replace an operator's file.
    public let missingFiles: Set<MaterialFile>

    public static let defaultCertificate = "certs/server.pem"
    public static let defaultKey = "certs/server.key"
    public static let defaultTicketKeyRotationSeconds = 3600

    public init(
        certificate: ConfiguredPath, key: ConfiguredPath, clientCA: ConfiguredPath?, clientAuth: ClientAuthMode,
        sessionTickets: Bool = true, ticketKeyRotationSeconds: Int = Self.defaultTicketKeyRotationSeconds,
        missingFiles: Set<MaterialFile> = []
    ) {
        self.certificate = certificate
        self.key = key
        self.clientCA = clientCA
        self.clientAuth = clientAuth
        self.sessionTickets = sessionTickets
        self.ticketKeyRotationSeconds = ticketKeyRotationSeconds
        self.missingFiles = missingFiles
    }

    /// Whether `gatewayd` must create development certificates before it can listen.
    public var needsDevelopmentCertificates: Bool { missingFiles.contains(.certificate) }
}
