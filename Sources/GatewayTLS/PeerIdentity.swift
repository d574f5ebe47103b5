/// What a verified client certificate says about its holder. Handed to the layers above after the handshake so
/// they can map a person to a role; the raw certificate never leaves the TLS layer.
public struct PeerIdentity: Sendable, Hashable, CustomStringConvertible {
    /// The subject distinguished name in RFC 2253 form, e.g. `CN=alice,O=Example`.
    public let subject: String
    /// The subject's common name, when it has one.
    public let commonName: String?
    /// Subject alternative names as `DNS:…`, `email:…`, `URI:…` or `IP:…`.
    public let subjectAlternativeNames: [String]
    /// SHA-256 of the DER certificate, lower-case hex.
    public let sha256Fingerprint: String

    public init(subject: String, commonName: String?, subjectAlternativeNames: [String], sha256Fingerprint: String) {
        self.subject = subject
        self.commonName = commonName
        self.subjectAlternativeNames = subjectAlternativeNames
        self.sha256Fingerprint = sha256Fingerprint
    }

    public var description: String { "\(self.subject) [sha256:\(self.sha256Fingerprint.prefix(16))…]" }
}

/// The facts of a completed handshake, fired as a user event right after `TLSUserEvent.handshakeCompleted`.
public struct TLSHandshakeDetails: Sendable, Hashable {
    /// The ALPN protocol both sides agreed on, if any.
    public let negotiatedProtocol: String?
    /// `TLSv1.2` or `TLSv1.3`.
    public let protocolVersion: String
    /// The cipher suite's OpenSSL name.
    public let cipherSuite: String
    /// The host name the client asked for (SNI), on the server side.
    public let serverName: String?
    /// The verified peer certificate's identity (client certificates on a server; the vendor on a client).
    public let peer: PeerIdentity?
    /// Whether the session was resumed from a ticket.
    public let resumed: Bool

    public init(
        negotiatedProtocol: String?, protocolVersion: String, cipherSuite: String, serverName: String?,
        peer: PeerIdentity?, resumed: Bool
    ) {
        self.negotiatedProtocol = negotiatedProtocol
        self.protocolVersion = protocolVersion
        self.cipherSuite = cipherSuite
        self.serverName = serverName
        self.peer = peer
        self.resumed = resumed
    }
}
