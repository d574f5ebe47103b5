import COpenSSL

/// Fingerprints of PEM certificates, as the handshake reports them in `PeerIdentity.sha256Fingerprint`.
public enum CertificateFingerprint {
    /// SHA-256 of the first certificate in `pem` (DER), lower-case hex.
    public static func sha256(pem: String) throws(TLSError) -> String {
        let certificates = try PEMLoading.certificates(from: .pem(pem))
        defer { certificates.forEach { X509_free($0) } }
        return CertificateInspection.fingerprint(of: certificates[0])
    }
}
