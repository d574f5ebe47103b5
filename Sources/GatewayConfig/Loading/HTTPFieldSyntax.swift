/// The RFC 9110 rules a configured header must follow, checked at load time so a bad credential can never turn
/// into a malformed (or smuggling) upstream request.
enum HTTPFieldSyntax {
    /// `token = 1*tchar`.
    static func isToken(_ name: String) -> Bool {
        !name.isEmpty && name.unicodeScalars.allSatisfy { scalar in
            scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar)
                || "!#$%&'*+-.^_`|~".unicodeScalars.contains(scalar))
        }
    }

    /// Field values may not contain CR, LF, NUL or other control characters except horizontal tab.
    static func isValidValue(_ value: String) -> Bool {
        value.unicodeScalars.allSatisfy { $0 == "\t" || ($0.value >= 0x20 && $0.value != 0x7F) }
    }

    /// Headers the proxy itself owns; a credential may not set them.
    static let reservedNames: Set<String> = [
        "host", "content-length", "transfer-encoding", "connection", "keep-alive", "upgrade", "te", "trailer",
        "proxy-connection", "proxy-authorization", "proxy-authenticate",
    ]
}
