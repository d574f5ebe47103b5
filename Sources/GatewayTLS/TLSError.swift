import GatewayCrypto

/// Why a TLS operation failed. Every case that comes from OpenSSL carries its drained error queue as text.
public enum TLSError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The configuration could not be turned into an OpenSSL context (bad PEM, key mismatch, unknown suite).
    case configuration(String, OpenSSLErrorStack)
    /// The handshake failed; `reason` says why in words (for a certificate: OpenSSL's verification result).
    case handshakeFailed(reason: String, OpenSSLErrorStack)
    /// The peer closed the TCP connection before the handshake finished.
    case eofDuringHandshake
    /// The peer closed the TCP connection without close_notify: the data may have been truncated.
    case uncleanShutdown
    /// We sent close_notify and the peer did not answer in time; the connection was closed anyway.
    case closeNotifyTimedOut
    /// A record could not be decrypted or the peer broke the protocol after the handshake.
    case protocolError(OpenSSLErrorStack)
    /// A write arrived after the connection began to close.
    case connectionClosed

    public var description: String {
        switch self {
        case .configuration(let what, let stack): "TLS configuration error: \(what): \(stack)"
        case .handshakeFailed(let reason, let stack):
            stack.entries.isEmpty ? "TLS handshake failed: \(reason)" : "TLS handshake failed: \(reason): \(stack)"
        case .eofDuringHandshake: "TLS handshake failed: the peer closed the connection"
        case .uncleanShutdown: "TLS connection closed without close_notify (possible truncation)"
        case .closeNotifyTimedOut: "TLS close_notify was not answered in time"
        case .protocolError(let stack): "TLS protocol error: \(stack)"
        case .connectionClosed: "TLS connection is closed"
        }
    }
}
