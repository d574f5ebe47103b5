import COpenSSL
import GatewayCrypto

/// A certificate and its private key, both PEM.
public struct IssuedCertificate: Sendable, Hashable {
    public let certificatePEM: String
    public let privateKeyPEM: String
}

/// The kind of key a generated certificate gets.
public enum GeneratedKeyType: Sendable, Hashable {
    case ecP256
    case rsa2048
}

/// What a leaf certificate may be used for (extendedKeyUsage).
public enum CertificateUsage: Sendable, Hashable {
    case server
    case client
}

/// A small certificate authority built on OpenSSL's X509 API (no shelling out), for development certificates, test
/// fixtures and client certificates for mTLS. Deployments use certificates from their own PKI.
public final class CertificateAuthority: @unchecked Sendable {
    private let certificate: OpaquePointer  // X509*
    private let key: OpaquePointer  // EVP_PKEY*
    /// The CA certificate and key, PEM.
    public let issued: IssuedCertificate

    private init(certificate: OpaquePointer, key: OpaquePointer) throws(TLSError) {
        self.certificate = certificate
        self.key = key
        self.issued = IssuedCertificate(
            certificatePEM: try X509Builder.pem(certificate: certificate),
            privateKeyPEM: try X509Builder.pem(privateKey: key)
        )
    }

    deinit {
        X509_free(self.certificate)
        EVP_PKEY_free(self.key)
    }

    /// Creates a self-signed root CA with an EC P-256 key.
    public static func create(commonName: String, validityDays: Int = 3650) throws(TLSError) -> CertificateAuthority {
        let key = try X509Builder.generateKey(.ecP256)
        let certificate: OpaquePointer
        do {
            certificate = try X509Builder.build(
                subject: commonName, publicKey: key, issuer: nil, signingKey: key,
                notBeforeOffset: -300, notAfterOffset: validityDays * 86_400,
                extensions: [
                    (NID_basic_constraints, "critical,CA:TRUE"),
                    (NID_key_usage, "critical,keyCertSign,cRLSign"),
                    (NID_subject_key_identifier, "hash"),
                ]
            )
        } catch {
            EVP_PKEY_free(key)
            throw error
        }
        return try CertificateAuthority(certificate: certificate, key: key)
    }

    /// Loads an existing CA from PEM.
    public static func load(certificatePEM: String, privateKeyPEM: String) throws(TLSError) -> CertificateAuthority {
        let certificates = try PEMLoading.certificates(from: .pem(certificatePEM))
        for extra in certificates.dropFirst() { X509_free(extra) }
        let key: OpaquePointer
        do { key = try PEMLoading.privateKey(from: .pem(privateKeyPEM)) } catch {
            X509_free(certificates[0])
            throw error
        }
        return try CertificateAuthority(certificate: certificates[0], key: key)
    }

    /// Issues a leaf certificate signed by this CA.
    /// - Parameters:
    ///   - dnsNames, ipAddresses: the subjectAltNames a peer verifies.
    ///   - notBeforeOffset, notAfterOffset: seconds from now (negative for the past: tests of expired certificates).
    public func issue(
        commonName: String,
        dnsNames: [String] = [],
        ipAddresses: [String] = [],
        emailAddresses: [String] = [],
        usage: CertificateUsage = .server,
        keyType: GeneratedKeyType = .ecP256,
        notBeforeOffset: Int = -300,
        notAfterOffset: Int = 365 * 86_400
    ) throws(TLSError) -> IssuedCertificate {
        let key = try X509Builder.generateKey(keyType)
        defer { EVP_PKEY_free(key) }
        let names = dnsNames.map { "DNS:\($0)" } + ipAddresses.map { "IP:\($0)" } + emailAddresses.map { "email:\($0)" }
        var extensions: [(Int32, String)] = [
            (NID_basic_constraints, "critical,CA:FALSE"),
            (NID_key_usage, keyType == .ecP256 ? "critical,digitalSignature" : "critical,digitalSignature,keyEncipherment"),
            (NID_ext_key_usage, usage == .server ? "serverAuth" : "clientAuth"),
            (NID_subject_key_identifier, "hash"),
            (NID_authority_key_identifier, "keyid:always"),
        ]
        if !names.isEmpty { extensions.append((NID_subject_alt_name, names.joined(separator: ","))) }
        let leaf = try X509Builder.build(
            subject: commonName, publicKey: key, issuer: self.certificate, signingKey: self.key,
            notBeforeOffset: notBeforeOffset, notAfterOffset: notAfterOffset, extensions: extensions
        )
        defer { X509_free(leaf) }
        return IssuedCertificate(
            certificatePEM: try X509Builder.pem(certificate: leaf),
            privateKeyPEM: try X509Builder.pem(privateKey: key)
        )
    }
}

/// The X509 builder steps, each wrapped so that failures carry OpenSSL's error text.
enum X509Builder {
    static func generateKey(_ type: GeneratedKeyType) throws(TLSError) -> OpaquePointer {
        let key: OpaquePointer? =
            switch type {
            case .ecP256: COpenSSL_EVP_EC_gen("P-256")
            case .rsa2048: COpenSSL_EVP_RSA_gen(2048)
            }
        guard let key else { throw TLSError.configuration("key generation", .drain()) }
        return key
    }

    static func build(
        subject: String, publicKey: OpaquePointer, issuer: OpaquePointer?, signingKey: OpaquePointer,
        notBeforeOffset: Int, notAfterOffset: Int, extensions: [(Int32, String)]
    ) throws(TLSError) -> OpaquePointer {
        guard let certificate = X509_new() else { throw TLSError.configuration("X509_new", .drain()) }
        do throws(TLSError) {
            try check(X509_set_version(certificate, 2), "X509_set_version")  // 2 means v3
            let serial = Crypto.randomBytes(count: 16).enumerated().map { $0.offset == 0 ? $0.element & 0x7f : $0.element }
            guard let number = BN_bin2bn(serial, Int32(serial.count), nil) else {
                throw TLSError.configuration("BN_bin2bn", .drain())
            }
            defer { BN_free(number) }
            guard BN_to_ASN1_INTEGER(number, X509_get_serialNumber(certificate)) != nil else {
                throw TLSError.configuration("serial number", .drain())
            }
            guard X509_gmtime_adj(X509_getm_notBefore(certificate), notBeforeOffset) != nil,
                X509_gmtime_adj(X509_getm_notAfter(certificate), notAfterOffset) != nil
            else { throw TLSError.configuration("validity", .drain()) }
            try check(
                X509_NAME_add_entry_by_txt(X509_get_subject_name(certificate), "CN", MBSTRING_UTF8, subject, -1, -1, 0),
                "subject name"
            )
            try check(
                X509_set_issuer_name(certificate, X509_get_subject_name(issuer ?? certificate)), "issuer name"
            )
            try check(X509_set_pubkey(certificate, publicKey), "public key")
            var context = X509V3_CTX()
            X509V3_set_ctx(&context, issuer ?? certificate, certificate, nil, nil, 0)
            for (nid, value) in extensions {
                guard let `extension` = X509V3_EXT_conf_nid(nil, &context, nid, value) else {
                    throw TLSError.configuration("extension \(value)", .drain())
                }
                defer { X509_EXTENSION_free(`extension`) }
                try check(X509_add_ext(certificate, `extension`, -1), "add extension")
            }
            guard X509_sign(certificate, signingKey, EVP_sha256()) > 0 else {
                throw TLSError.configuration("X509_sign", .drain())
            }
        } catch {
            X509_free(certificate)
            throw error
        }
        return certificate
    }

    static func pem(certificate: OpaquePointer) throws(TLSError) -> String {
        guard let bio = BIO_new(BIO_s_mem()) else { throw TLSError.configuration("BIO_new", .drain()) }
        defer { BIO_free(bio) }
        try check(PEM_write_bio_X509(bio, certificate), "PEM_write_bio_X509")
        return CertificateInspection.readAll(bio)
    }

    static func pem(privateKey: OpaquePointer) throws(TLSError) -> String {
        guard let bio = BIO_new(BIO_s_mem()) else { throw TLSError.configuration("BIO_new", .drain()) }
        defer { BIO_free(bio) }
        try check(PEM_write_bio_PrivateKey(bio, privateKey, nil, nil, 0, nil, nil), "PEM_write_bio_PrivateKey")
        return CertificateInspection.readAll(bio)
    }

    private static func check(_ result: Int32, _ what: String) throws(TLSError) {
        guard result == 1 else { throw TLSError.configuration(what, .drain()) }
    }
}
