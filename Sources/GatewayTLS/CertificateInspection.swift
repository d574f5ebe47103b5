import COpenSSL
import GatewayCrypto

/// Reads identities out of `X509*` handles. Internal: the handle never crosses the module boundary.
enum CertificateInspection {
    static func identity(of certificate: OpaquePointer) -> PeerIdentity {
        PeerIdentity(
            subject: subject(of: certificate),
            commonName: commonName(of: certificate),
            subjectAlternativeNames: alternativeNames(of: certificate),
            sha256Fingerprint: fingerprint(of: certificate)
        )
    }

    static func subject(of certificate: OpaquePointer) -> String {
        guard let name = X509_get_subject_name(certificate), let bio = BIO_new(BIO_s_mem()) else { return "" }
        defer { BIO_free(bio) }
        _ = X509_NAME_print_ex(bio, name, 0, COpenSSL_XN_FLAG_RFC2253)
        return readAll(bio)
    }

    static func commonName(of certificate: OpaquePointer) -> String? {
        guard let name = X509_get_subject_name(certificate) else { return nil }
        let index = X509_NAME_get_index_by_NID(name, NID_commonName, -1)
        guard index >= 0, let entry = X509_NAME_get_entry(name, index),
            let data = X509_NAME_ENTRY_get_data(entry)
        else { return nil }
        return string(from: UnsafePointer(data))
    }

    static func alternativeNames(of certificate: OpaquePointer) -> [String] {
        guard let raw = X509_get_ext_d2i(certificate, NID_subject_alt_name, nil, nil) else { return [] }
        let names = OpaquePointer(raw)
        defer { COpenSSL_GENERAL_NAMES_free(names) }
        var result: [String] = []
        for index in 0..<COpenSSL_sk_GENERAL_NAME_num(names) {
            guard let name = COpenSSL_sk_GENERAL_NAME_value(names, index),
                let value = COpenSSL_GENERAL_NAME_string(name)
            else { continue }
            switch COpenSSL_GENERAL_NAME_type(name) {
            case GEN_DNS: result.append("DNS:" + (string(from: value) ?? ""))
            case GEN_EMAIL: result.append("email:" + (string(from: value) ?? ""))
            case GEN_URI: result.append("URI:" + (string(from: value) ?? ""))
            case GEN_IPADD: result.append("IP:" + ipAddressText(value))
            default: continue
            }
        }
        return result
    }

    static func fingerprint(of certificate: OpaquePointer) -> String {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        guard X509_digest(certificate, EVP_sha256(), &digest, &length) == 1 else { return "" }
        return Crypto.hex(digest.prefix(Int(length)))
    }

    private static func string(from value: UnsafePointer<ASN1_STRING>) -> String? {
        guard let bytes = ASN1_STRING_get0_data(value) else { return nil }
        return String(decoding: UnsafeBufferPointer(start: bytes, count: Int(ASN1_STRING_length(value))), as: UTF8.self)
    }

    private static func ipAddressText(_ value: UnsafePointer<ASN1_STRING>) -> String {
        guard let bytes = ASN1_STRING_get0_data(value) else { return "" }
        let octets = Array(UnsafeBufferPointer(start: bytes, count: Int(ASN1_STRING_length(value))))
        if octets.count == 4 { return octets.map(String.init).joined(separator: ".") }
        return stride(from: 0, to: octets.count, by: 2).map {
            String(UInt16(octets[$0]) << 8 | UInt16(octets[$0 + 1]), radix: 16)
        }.joined(separator: ":")
    }

    static func readAll(_ bio: OpaquePointer) -> String {
        var pointer: UnsafeMutablePointer<CChar>? = nil
        let length = COpenSSL_BIO_get_mem_data(bio, &pointer)
        guard let pointer, length > 0 else { return "" }
        return pointer.withMemoryRebound(to: UInt8.self, capacity: length) {
            String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
        }
    }
}
