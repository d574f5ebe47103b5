/// Where PEM material comes from: a file on disk (deployments) or text in memory (tests, generated material).
public enum PEMSource: Sendable, Hashable {
    case file(String)
    case pem(String)
}

/// Whether a server asks for client certificates (mTLS).
public enum ClientCertificateMode: Sendable, Hashable {
    /// No certificate is requested.
    case none
    /// A certificate is requested and, when sent, must verify against `trustRoots`; clients without one still connect.
    case optional(trustRoots: PEMSource)
    /// A certificate that verifies against `trustRoots` is required; the handshake fails without one.
    case required(trustRoots: PEMSource)
}

/// How a server resumes sessions.
public enum SessionResumption: Sendable, Hashable {
    /// Every connection performs a full handshake; no tickets are issued and no session cache is kept.
    case disabled
    /// Stateless TLS session tickets sealed with keys that rotate every `rotationInterval` seconds. A ticket sealed
    /// with the previous key is still accepted (and renewed), so rotation never forces a full handshake at once.
    case tickets(rotationIntervalSeconds: Int)
}

/// The TLS settings of a listener. Value type: building the OpenSSL context from it happens once, in `TLSContext`.
///
/// The protocol policy is fixed rather than configurable, because every knob here is a way to weaken it:
/// TLS 1.2 and 1.3 only; TLS 1.2 suites limited to ECDHE with AES-GCM or ChaCha20-Poly1305; groups X25519, P-256
/// and P-384; no renegotiation; no compression; ALPN `http/1.1`.
public struct ServerTLSConfiguration: Sendable, Hashable {
    /// The certificate chain, leaf first (PEM).
    public var certificateChain: PEMSource
    /// The leaf's private key (PEM; EC or RSA).
    public var privateKey: PEMSource
    /// Client certificate verification. Default: none.
    public var clientCertificates: ClientCertificateMode
    /// Session resumption. Default: tickets rotating hourly.
    public var sessionResumption: SessionResumption

    public init(
        certificateChain: PEMSource,
        privateKey: PEMSource,
        clientCertificates: ClientCertificateMode = .none,
        sessionResumption: SessionResumption = .tickets(rotationIntervalSeconds: 3600)
    ) {
        self.certificateChain = certificateChain
        self.privateKey = privateKey
        self.clientCertificates = clientCertificates
        self.sessionResumption = sessionResumption
    }
}

/// Which certificate authorities a client trusts.
public enum TrustRoots: Sendable, Hashable {
    /// The operating system's trust store (OpenSSL's default verify paths).
    case system
    /// Only the CA certificates in this PEM source.
    case certificates(PEMSource)
}

/// The TLS settings for connections the gateway originates (to AI vendors).
///
/// Verification is on and cannot be turned off: the peer's chain must verify against `trustRoots` and its
/// certificate must name the host we dialled, before any application byte is written.
public struct ClientTLSConfiguration: Sendable, Hashable {
    /// The CAs that may vouch for the server. Default: the system store.
    public var trustRoots: TrustRoots
    /// A client certificate to present (mTLS to the upstream), with its key. Default: none.
    public var certificateChain: PEMSource?
    public var privateKey: PEMSource?

    public init(trustRoots: TrustRoots = .system, certificateChain: PEMSource? = nil, privateKey: PEMSource? = nil) {
        self.trustRoots = trustRoots
        self.certificateChain = certificateChain
        self.privateKey = privateKey
    }
}

/// The fixed protocol policy shared by both sides.
enum TLSPolicy {
    static let tls12CipherSuites = [
        "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
        "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
    ].joined(separator: ":")
    static let tls13CipherSuites = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"
    static let groups = "X25519:P-256:P-384"
    static let alpnProtocol = "http/1.1"
}
