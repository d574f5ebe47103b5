import COpenSSL
import GatewayCrypto

/// Reads PEM certificates and keys into OpenSSL objects. Internal: OpenSSL handles never leave this module.
enum PEMLoading {
    /// Opens a read-only memory or file BIO over `source`; the caller frees it.
    static func openBIO(_ source: PEMSource) throws(TLSError) -> OpaquePointer {
        let bio: OpaquePointer?
        switch source {
        case .file(let path):
            bio = BIO_new_file(path, "r")
            if bio == nil { throw TLSError.configuration("cannot open \(path)", .drain()) }
        case .pem(let text):
            // BIO_new_mem_buf does not copy: keep an OpenSSL-owned copy alive as long as the BIO.
            bio = BIO_new(BIO_s_mem())
            let written = text.utf8CString.withUnsafeBufferPointer { BIO_write(bio, $0.baseAddress, Int32($0.count - 1)) }
            if bio == nil || written < 0 { throw TLSError.configuration("cannot buffer PEM text", .drain()) }
        }
        return bio!
    }

    static func describe(_ source: PEMSource) -> String {
        switch source {
        case .file(let path): path
        case .pem: "in-memory PEM"
        }
    }

    /// Every certificate in `source`, in order. The caller owns (and frees) each returned `X509*`.
    static func certificates(from source: PEMSource) throws(TLSError) -> [OpaquePointer] {
        let bio = try openBIO(source)
        defer { BIO_free(bio) }
        var certificates: [OpaquePointer] = []
        while let certificate = PEM_read_bio_X509(bio, nil, nil, nil) {
            certificates.append(certificate)
        }
        // Reading stops with a "no start line" error at the end of input; that one is expected.
        _ = OpenSSLErrorStack.drain()
        if certificates.isEmpty {
            throw TLSError.configuration("no PEM certificate in \(describe(source))", .init(entries: []))
        }
        return certificates
    }

    /// The private key in `source` (EC or RSA). The caller owns (and frees) the `EVP_PKEY*`.
    static func privateKey(from source: PEMSource) throws(TLSError) -> OpaquePointer {
        let bio = try openBIO(source)
        defer { BIO_free(bio) }
        guard let key = PEM_read_bio_PrivateKey(bio, nil, nil, nil) else {
            throw TLSError.configuration("no readable PEM private key in \(describe(source))", .drain())
        }
        return key
    }

    /// Adds every CA certificate in `source` to `store`.
    static func addTrustRoots(_ source: PEMSource, to store: OpaquePointer) throws(TLSError) {
        for certificate in try certificates(from: source) {
            defer { X509_free(certificate) }
            guard X509_STORE_add_cert(store, certificate) == 1 else {
                throw TLSError.configuration("cannot trust a certificate from \(describe(source))", .drain())
            }
        }
    }
}
