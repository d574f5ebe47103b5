import COpenSSL
import GatewayCrypto
import NIOCore

/// The outcome of one non-blocking step. OpenSSL's `WANT_READ`/`WANT_WRITE` become `.incomplete`, so callers
/// switch over three cases instead of decoding `SSL_get_error` codes.
enum TLSOperationResult<Value> {
    case complete(Value)
    case incomplete
    case failed(TLSError)
}

/// What one attempt to read plaintext produced.
enum TLSReadResult {
    /// Some plaintext was appended to the buffer.
    case readSome
    /// No complete record is buffered yet.
    case needMoreData
    /// The peer sent close_notify.
    case closeNotify
    case failed(TLSError)
}

/// One TLS session (`SSL*`) over two memory BIOs: ciphertext from the network is pushed into one, ciphertext for
/// the network is pulled out of the other. The connection does no I/O of its own, which keeps it event-loop
/// agnostic and lets tests pump two peers against each other in memory.
///
/// Not thread-safe: it belongs to one channel's event loop. Call `free()` when the channel is done with it.
final class TLSConnection {
    private let context: TLSContext  // keeps the SSL_CTX (and its ticket key ring) alive
    private var ssl: OpaquePointer?
    private let networkIn: OpaquePointer
    private let networkOut: OpaquePointer

    /// - Parameter serverHostname: for a client: the name to verify in the server's certificate and to send as SNI
    ///   (an IP address is verified against the certificate's IP SANs and sent without SNI).
    init(context: TLSContext, serverHostname: String?) throws(TLSError) {
        guard let ssl = SSL_new(context.context) else { throw TLSError.configuration("SSL_new", .drain()) }
        guard let networkIn = BIO_new(BIO_s_mem()), let networkOut = BIO_new(BIO_s_mem()) else {
            SSL_free(ssl)
            throw TLSError.configuration("BIO_new", .drain())
        }
        // An empty memory BIO must read as "retry later", not as end of file.
        _ = COpenSSL_BIO_set_mem_eof_return(networkIn, -1)
        _ = COpenSSL_BIO_set_mem_eof_return(networkOut, -1)
        SSL_set_bio(ssl, networkIn, networkOut)  // the SSL now owns both BIOs
        self.context = context
        self.ssl = ssl
        self.networkIn = networkIn
        self.networkOut = networkOut

        switch context.role {
        case .server:
            SSL_set_accept_state(ssl)
        case .client:
            guard let host = serverHostname, !host.isEmpty else {
                SSL_free(ssl)
                self.ssl = nil
                throw TLSError.configuration("a client connection needs the server's host name to verify", .init(entries: []))
            }
            try Self.bind(ssl, toHost: host)
            SSL_set_connect_state(ssl)
        }
    }

    deinit { self.free() }

    private static func bind(_ ssl: OpaquePointer, toHost host: String) throws(TLSError) {
        let isIPAddress = host.contains(":") || host.allSatisfy { $0.isNumber || $0 == "." }
        if isIPAddress {
            guard X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host) == 1 else {
                throw TLSError.configuration("invalid IP address \(host)", .drain())
            }
        } else {
            X509_VERIFY_PARAM_set_hostflags(SSL_get0_param(ssl), UInt32(X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS))
            guard SSL_set1_host(ssl, host) == 1, COpenSSL_SSL_set_tlsext_host_name(ssl, host) == 1 else {
                throw TLSError.configuration("invalid host name \(host)", .drain())
            }
        }
    }

    /// Frees the OpenSSL objects now rather than whenever the last reference goes. Idempotent.
    func free() {
        if let ssl = self.ssl {
            SSL_free(ssl)
            self.ssl = nil
        }
    }

    // MARK: - Network side

    /// Hands ciphertext received from the network to OpenSSL.
    func receiveFromNetwork(_ buffer: ByteBuffer) {
        guard self.ssl != nil else { return }  // the BIOs died with the SSL
        buffer.withUnsafeReadableBytes { bytes in
            guard bytes.count > 0 else { return }
            _ = BIO_write(self.networkIn, bytes.baseAddress, Int32(bytes.count))  // memory BIOs grow; cannot fail short
        }
    }

    /// Takes every byte of ciphertext OpenSSL produced since the last call, or nil when there is none.
    func takeCiphertext(allocator: ByteBufferAllocator) -> ByteBuffer? {
        guard self.ssl != nil else { return nil }
        let pending = Int(BIO_ctrl_pending(self.networkOut))
        guard pending > 0 else { return nil }
        var buffer = allocator.buffer(capacity: pending)
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: pending) { bytes in
            Int(BIO_read(self.networkOut, bytes.baseAddress, Int32(pending)))
        }
        return buffer
    }

    // MARK: - TLS operations

    func handshake() -> TLSOperationResult<Void> {
        guard let ssl = self.ssl else { return .failed(.connectionClosed) }
        let result = SSL_do_handshake(ssl)
        if result == 1 { return .complete(()) }
        switch SSL_get_error(ssl, result) {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE: return .incomplete
        default: return .failed(self.handshakeError(ssl))
        }
    }

    private func handshakeError(_ ssl: OpaquePointer) -> TLSError {
        let stack = OpenSSLErrorStack.drain()
        let verification = SSL_get_verify_result(ssl)
        if verification != X509_V_OK {
            let reason = String(cString: X509_verify_cert_error_string(verification))
            return .handshakeFailed(reason: "certificate verification failed: \(reason)", stack)
        }
        let reason = stack.entries.last.map { $0.message.split(separator: ":").last.map(String.init) ?? $0.message }
        return .handshakeFailed(reason: reason ?? "protocol failure", stack)
    }

    /// An upper bound on the plaintext the ciphertext received so far can yield (decrypted records never grow).
    var plaintextBound: Int {
        guard let ssl = self.ssl else { return 0 }
        return Int(BIO_ctrl_pending(self.networkIn)) + Int(SSL_pending(ssl))
    }

    /// Whether a read could yield anything now: ciphertext received and not yet handed to OpenSSL, or data OpenSSL
    /// holds (decrypted or not). When false, `read` would only answer `.needMoreData`, after a trip through OpenSSL's
    /// record layer that costs as much as decrypting a small record.
    var hasBufferedInput: Bool {
        guard let ssl = self.ssl else { return false }
        return BIO_ctrl_pending(self.networkIn) > 0 || SSL_has_pending(ssl) == 1
    }

    /// Decrypts at most one record's worth of plaintext into `buffer`.
    ///
    /// The buffer grows only to what the received ciphertext can hold, not to a whole 16 KiB record: a 2 KB request
    /// must not cost a 16 KiB allocation (and its page faults) on every read.
    func read(into buffer: inout ByteBuffer) -> TLSReadResult {
        guard let ssl = self.ssl else { return .failed(.connectionClosed) }
        var count = 0
        var status: Int32 = 0
        let room = min(16_384, max(256, self.plaintextBound))
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: room) { bytes in
            status = SSL_read_ex(ssl, bytes.baseAddress, bytes.count, &count)
            return status == 1 ? count : 0
        }
        if status == 1 { return .readSome }
        switch SSL_get_error(ssl, status) {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE: return .needMoreData
        case SSL_ERROR_ZERO_RETURN: return .closeNotify
        default: return .failed(.protocolError(.drain()))
        }
    }

    /// Encrypts all of `buffer`. Memory BIOs never push back, so a write is complete or failed.
    func write(_ buffer: ByteBuffer) -> TLSOperationResult<Void> {
        guard let ssl = self.ssl else { return .failed(.connectionClosed) }
        return buffer.withUnsafeReadableBytes { bytes in
            guard bytes.count > 0 else { return .complete(()) }
            var written = 0
            let status = SSL_write_ex(ssl, bytes.baseAddress, bytes.count, &written)
            return status == 1 && written == bytes.count ? .complete(()) : .failed(.protocolError(.drain()))
        }
    }

    /// Sends our close_notify (once) and reports `.complete` when the peer's close_notify has arrived too.
    func shutdown() -> TLSOperationResult<Void> {
        guard let ssl = self.ssl else { return .complete(()) }
        let result = SSL_shutdown(ssl)
        if result == 1 { return .complete(()) }
        if result == 0 { return .incomplete }
        switch SSL_get_error(ssl, result) {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE: return .incomplete
        case SSL_ERROR_ZERO_RETURN: return .complete(())
        default: return .failed(.protocolError(.drain()))
        }
    }

    /// Whether the peer's close_notify has been received.
    var receivedCloseNotify: Bool {
        guard let ssl = self.ssl else { return true }
        return SSL_get_shutdown(ssl) & SSL_RECEIVED_SHUTDOWN != 0
    }

    // MARK: - Facts about the session

    var handshakeDetails: TLSHandshakeDetails {
        guard let ssl = self.ssl else {
            return TLSHandshakeDetails(
                negotiatedProtocol: nil, protocolVersion: "", cipherSuite: "", serverName: nil, peer: nil,
                resumed: false
            )
        }
        var alpn: UnsafePointer<UInt8>? = nil
        var alpnLength: UInt32 = 0
        SSL_get0_alpn_selected(ssl, &alpn, &alpnLength)
        let negotiated = alpn.map { String(decoding: UnsafeBufferPointer(start: $0, count: Int(alpnLength)), as: UTF8.self) }
        var peer: PeerIdentity? = nil
        if let certificate = SSL_get1_peer_certificate(ssl) {
            defer { X509_free(certificate) }
            if SSL_get_verify_result(ssl) == X509_V_OK { peer = CertificateInspection.identity(of: certificate) }
        }
        let serverName = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name).map { String(cString: $0) }
        let cipher = SSL_get_current_cipher(ssl).flatMap { SSL_CIPHER_get_name($0) }.map { String(cString: $0) }
        return TLSHandshakeDetails(
            negotiatedProtocol: negotiated,
            protocolVersion: String(cString: SSL_get_version(ssl)),
            cipherSuite: cipher ?? "",
            serverName: self.context.role == .server ? serverName : nil,
            peer: peer,
            resumed: SSL_session_reused(ssl) == 1
        )
    }
}
