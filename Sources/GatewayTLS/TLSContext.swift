import COpenSSL
import GatewayCrypto

/// One OpenSSL `SSL_CTX`: built once from a configuration value, then shared read-only by every connection.
///
/// Building a context reads files and parses keys, so do it at start-up, off any event loop. A built context is
/// immutable and safe to use from any thread; each connection takes its own `SSL` object from it.
public final class TLSContext: @unchecked Sendable {
    enum Role { case server, client }

    let context: OpaquePointer
    let role: Role
    /// Present when the server issues session tickets; reachable from OpenSSL's callback through ex-data.
    let ticketKeys: SessionTicketKeyRing?

    private init(context: OpaquePointer, role: Role, ticketKeys: SessionTicketKeyRing?) {
        self.context = context
        self.role = role
        self.ticketKeys = ticketKeys
    }

    deinit { SSL_CTX_free(self.context) }

    /// Builds the context for a listener.
    /// - Throws: `TLSError.configuration` naming what could not be loaded, with OpenSSL's error text.
    public static func server(_ configuration: ServerTLSConfiguration) throws(TLSError) -> TLSContext {
        guard let context = SSL_CTX_new(TLS_server_method()) else {
            throw TLSError.configuration("SSL_CTX_new", .drain())
        }
        var ticketKeys: SessionTicketKeyRing? = nil
        do throws(TLSError) {
            try applyProtocolPolicy(to: context)
            try useCertificate(configuration.certificateChain, key: configuration.privateKey, in: context)
            try configureClientVerification(configuration.clientCertificates, in: context)
            SSL_CTX_set_alpn_select_cb(context, selectHTTP11, nil)
            switch configuration.sessionResumption {
            case .disabled:
                _ = SSL_CTX_set_options(context, COpenSSL_SSL_OP_NO_TICKET)
                _ = SSL_CTX_set_num_tickets(context, 0)
                _ = COpenSSL_SSL_CTX_set_session_cache_mode(context, Int(SSL_SESS_CACHE_OFF))
            case .tickets(let seconds):
                // Stateless tickets only: a server-side cache would grow with clients and not survive replicas.
                _ = COpenSSL_SSL_CTX_set_session_cache_mode(context, Int(SSL_SESS_CACHE_OFF))
                let ring = SessionTicketKeyRing(rotationInterval: .seconds(max(1, seconds)))
                ticketKeys = ring
                _ = SSL_CTX_set_ex_data(context, ticketRingIndex, Unmanaged.passUnretained(ring).toOpaque())
                _ = COpenSSL_SSL_CTX_set_tlsext_ticket_key_evp_cb(context, sealOrOpenTicket)
            }
        } catch {
            SSL_CTX_free(context)
            throw error
        }
        return TLSContext(context: context, role: .server, ticketKeys: ticketKeys)
    }

    /// Builds the context for connections to an upstream. Peer verification is always on.
    public static func client(_ configuration: ClientTLSConfiguration) throws(TLSError) -> TLSContext {
        guard let context = SSL_CTX_new(TLS_client_method()) else {
            throw TLSError.configuration("SSL_CTX_new", .drain())
        }
        do throws(TLSError) {
            try applyProtocolPolicy(to: context)
            SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
            switch configuration.trustRoots {
            case .system:
                guard SSL_CTX_set_default_verify_paths(context) == 1 else {
                    throw TLSError.configuration("cannot load the system trust store", .drain())
                }
            case .certificates(let source):
                try PEMLoading.addTrustRoots(source, to: SSL_CTX_get_cert_store(context))
            }
            if let chain = configuration.certificateChain, let key = configuration.privateKey {
                try useCertificate(chain, key: key, in: context)
            }
            // The wire format is length-prefixed; note SSL_CTX_set_alpn_protos returns 0 on success.
            let alpn: [UInt8] = [UInt8(TLSPolicy.alpnProtocol.utf8.count)] + Array(TLSPolicy.alpnProtocol.utf8)
            guard SSL_CTX_set_alpn_protos(context, alpn, UInt32(alpn.count)) == 0 else {
                throw TLSError.configuration("cannot set ALPN", .drain())
            }
            _ = COpenSSL_SSL_CTX_set_session_cache_mode(context, Int(SSL_SESS_CACHE_OFF))
        } catch {
            SSL_CTX_free(context)
            throw error
        }
        return TLSContext(context: context, role: .client, ticketKeys: nil)
    }

    /// Seals new tickets under a fresh key from now on; tickets under the old key still resume once.
    public func rotateSessionTicketKeys() { self.ticketKeys?.rotate() }

    // MARK: - Building blocks

    private static func applyProtocolPolicy(to context: OpaquePointer) throws(TLSError) {
        guard COpenSSL_SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION) == 1,
            COpenSSL_SSL_CTX_set_max_proto_version(context, TLS1_3_VERSION) == 1
        else { throw TLSError.configuration("cannot limit protocol versions to TLS 1.2-1.3", .drain()) }
        guard SSL_CTX_set_cipher_list(context, TLSPolicy.tls12CipherSuites) == 1,
            SSL_CTX_set_ciphersuites(context, TLSPolicy.tls13CipherSuites) == 1
        else { throw TLSError.configuration("cannot set cipher suites", .drain()) }
        guard COpenSSL_SSL_CTX_set1_groups_list(context, TLSPolicy.groups) == 1 else {
            throw TLSError.configuration("cannot set key exchange groups", .drain())
        }
        _ = SSL_CTX_set_options(context, COpenSSL_SSL_OP_NO_RENEGOTIATION | COpenSSL_SSL_OP_NO_COMPRESSION)
        // Memory BIOs move the buffer between calls; release idle buffers on long-lived quiet connections.
        _ = COpenSSL_SSL_CTX_set_mode(
            context, COpenSSL_SSL_MODE_RELEASE_BUFFERS | COpenSSL_SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER
        )
    }

    private static func useCertificate(
        _ chain: PEMSource, key: PEMSource, in context: OpaquePointer
    ) throws(TLSError) {
        let certificates = try PEMLoading.certificates(from: chain)
        defer { certificates.forEach { X509_free($0) } }
        guard SSL_CTX_use_certificate(context, certificates[0]) == 1 else {
            throw TLSError.configuration("cannot use the certificate in \(PEMLoading.describe(chain))", .drain())
        }
        for intermediate in certificates.dropFirst() {
            guard COpenSSL_SSL_CTX_add1_chain_cert(context, intermediate) == 1 else {
                throw TLSError.configuration("cannot add a chain certificate", .drain())
            }
        }
        let privateKey = try PEMLoading.privateKey(from: key)
        defer { EVP_PKEY_free(privateKey) }
        guard SSL_CTX_use_PrivateKey(context, privateKey) == 1, SSL_CTX_check_private_key(context) == 1 else {
            throw TLSError.configuration(
                "the key in \(PEMLoading.describe(key)) does not match the certificate", .drain()
            )
        }
    }

    private static func configureClientVerification(
        _ mode: ClientCertificateMode, in context: OpaquePointer
    ) throws(TLSError) {
        let roots: PEMSource
        var flags = SSL_VERIFY_PEER
        switch mode {
        case .none: return
        case .optional(let source): roots = source
        case .required(let source):
            roots = source
            flags |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT
        }
        try PEMLoading.addTrustRoots(roots, to: SSL_CTX_get_cert_store(context))
        for certificate in try PEMLoading.certificates(from: roots) {
            defer { X509_free(certificate) }
            _ = SSL_CTX_add_client_CA(context, certificate)  // advertises which CAs we accept
        }
        SSL_CTX_set_verify(context, flags, nil)
    }
}

/// The SSL_CTX ex-data slot that holds the ticket key ring (unretained: the `TLSContext` owns it).
private let ticketRingIndex: Int32 = COpenSSL_SSL_CTX_get_ex_new_index()

/// ALPN: choose `http/1.1` when the client offers it; otherwise carry on without ALPN rather than fail, since
/// plenty of HTTP/1.1 clients send no ALPN at all.
private func selectHTTP11(
    _ ssl: OpaquePointer?, _ out: UnsafeMutablePointer<UnsafePointer<UInt8>?>?,
    _ outLength: UnsafeMutablePointer<UInt8>?, _ offered: UnsafePointer<UInt8>?, _ offeredLength: UInt32,
    _ argument: UnsafeMutableRawPointer?
) -> Int32 {
    guard let offered, let out, let outLength else { return SSL_TLSEXT_ERR_NOACK }
    let wanted = Array(TLSPolicy.alpnProtocol.utf8)
    var index = 0
    while index < Int(offeredLength) {
        let length = Int(offered[index])
        let start = index + 1
        guard start + length <= Int(offeredLength) else { break }
        if length == wanted.count && (0..<length).allSatisfy({ offered[start + $0] == wanted[$0] }) {
            out.pointee = offered + start  // points into OpenSSL's own copy of the ClientHello: outlives this call
            outLength.pointee = UInt8(length)
            return SSL_TLSEXT_ERR_OK
        }
        index = start + length
    }
    return SSL_TLSEXT_ERR_NOACK
}

/// OpenSSL's ticket callback: `encrypt == 1` seals a new ticket, otherwise opens one.
/// Returns 1 (use), 2 (use and renew), 0 (unknown key: full handshake) or -1 (error).
private func sealOrOpenTicket(
    _ ssl: OpaquePointer?, _ keyName: UnsafeMutablePointer<UInt8>?, _ iv: UnsafeMutablePointer<UInt8>?,
    _ cipherContext: OpaquePointer?, _ macContext: OpaquePointer?, _ encrypt: Int32
) -> Int32 {
    guard let ssl, let keyName, let iv, let cipherContext, let macContext,
        let raw = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ticketRingIndex)
    else { return -1 }
    let ring = Unmanaged<SessionTicketKeyRing>.fromOpaque(raw).takeUnretainedValue()
    let key: SessionTicketKeyRing.Key
    var result: Int32 = 1
    if encrypt == 1 {
        key = ring.sealingKey()
        for index in 0..<16 { keyName[index] = key.name[index] }
        guard RAND_bytes(iv, 16) == 1,
            EVP_EncryptInit_ex(cipherContext, EVP_aes_256_cbc(), nil, key.aesKey, iv) == 1
        else { return -1 }
    } else {
        let name = Array(UnsafeBufferPointer(start: keyName, count: 16))
        guard let found = ring.openingKey(named: name) else { return 0 }
        key = found.key
        result = found.renew ? 2 : 1
        guard EVP_DecryptInit_ex(cipherContext, EVP_aes_256_cbc(), nil, key.aesKey, iv) == 1 else { return -1 }
    }
    var hmacKey = key.hmacKey
    let ok = hmacKey.withUnsafeMutableBytes {
        COpenSSL_EVP_MAC_CTX_set_hmac_sha256_key(macContext, $0.baseAddress?.assumingMemoryBound(to: UInt8.self), $0.count)
    }
    return ok == 1 ? result : -1
}
