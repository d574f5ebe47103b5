import GatewayRules
import NIOHTTP1

/// The checks every request head passes before any phase reads it: what the HTTP decoder accepts but a proxy in
/// front of other parsers must not (RFC 9112 and nginx's defaults). Each refusal names its reason; the connection
/// closes after it, since the body that may follow was never read.
///
/// - The target is a plain origin-form path: no `.` or `..` segment (raw or percent-encoded), no encoded `/` or `\`,
///   no byte outside RFC 3986's set (a `"` or `\` included). Routing works on the path as written, and a vendor that
///   normalised `/v1/chat/completions/../../admin` would serve a path no role was checked for.
/// - Exactly one `Host` (at most one in HTTP/1.0).
/// - `Transfer-Encoding` only as exactly `chunked`, and never in HTTP/1.0 (501 or 400): any other coding would be
///   read differently by the next parser.
/// - `Expect` only as `100-continue` (417).
/// - No gateway key anywhere but the credential fields: a key in the query string or another header would be
///   forwarded to the vendor with the request.
public enum RequestHeadChecks {
    /// The fields a caller's gateway key may travel in (never forwarded: `HeaderHygiene` drops them).
    static let credentialFields = ["authorization", "x-api-key"]

    public static func check(_ head: HTTPRequestHead) throws(GatewayError) {
        try Self.checkTarget(head.uri)
        try Self.checkFraming(head)
        try Self.checkKeyPlacement(head)
    }

    // MARK: - The target

    static func checkTarget(_ target: String) throws(GatewayError) {
        let bytes = Array(target.utf8)
        guard bytes.first == UInt8(ascii: "/") else {
            throw Self.badTarget("the request target must be an absolute path (origin-form), such as /v1/chat/completions")
        }
        let queryStart = bytes.firstIndex(of: UInt8(ascii: "?")) ?? bytes.count
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%") {
                guard index + 2 < bytes.count, let high = PercentEncoding.hexDigitValue(bytes[index + 1]),
                    let low = PercentEncoding.hexDigitValue(bytes[index + 2])
                else { throw Self.badTarget("the request target holds a malformed percent-encoding") }
                let decoded = high << 4 | low
                if index < queryStart, decoded == UInt8(ascii: "/") || decoded == UInt8(ascii: "\\") || decoded == 0 {
                    throw Self.badTarget("the request path holds an encoded '/', '\\' or NUL")
                }
                index += 3
                continue
            }
            guard Self.isTargetByte(byte, inQuery: index > queryStart) else {
                throw Self.badTarget("the request target holds a character that must be percent-encoded")
            }
            index += 1
        }
        // Segments of one to six bytes are the only ones that can spell `.` or `..` (`%2e%2e` is six); only those are
        // decoded, so an ordinary path allocates nothing here.
        var segmentStart = 0
        for index in 0...queryStart where index == queryStart || bytes[index] == UInt8(ascii: "/") {
            let segment = bytes[segmentStart..<index]
            segmentStart = index + 1
            guard (1...6).contains(segment.count), segment.first == UInt8(ascii: ".") || segment.first == UInt8(ascii: "%")
            else { continue }
            let decoded = PercentEncoding.decode(segment, plusIsSpace: false)
            if decoded == [UInt8(ascii: ".")] || decoded == [UInt8(ascii: "."), UInt8(ascii: ".")] {
                throw Self.badTarget("the request path holds a '.' or '..' segment")
            }
        }
    }

    /// RFC 3986 `pchar`, `/` and `?`; in the query also `[` and `]`, which some clients leave unencoded there.
    private static func isTargetByte(_ byte: UInt8, inQuery: Bool) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: "!"),
            UInt8(ascii: "$"), UInt8(ascii: "&"), UInt8(ascii: "'"), UInt8(ascii: "("), UInt8(ascii: ")"),
            UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: "="),
            UInt8(ascii: ":"), UInt8(ascii: "@"), UInt8(ascii: "/"), UInt8(ascii: "?"):
            return true
        case UInt8(ascii: "["), UInt8(ascii: "]"): return inQuery
        default: return false
        }
    }

    /// RFC 3986 `host [ ":" port ]`: reg-name, IPv4 and bracketed IPv6 characters.
    private static func isHostByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
            UInt8(ascii: "~"), UInt8(ascii: "%"), UInt8(ascii: ":"), UInt8(ascii: "["), UInt8(ascii: "]"):
            return true
        default: return false
        }
    }

    private static func badTarget(_ why: String) -> GatewayError {
        GatewayError(.badRequest, "Refused: \(why). Nothing was forwarded.")
    }

    // MARK: - Framing

    static func checkFraming(_ head: HTTPRequestHead) throws(GatewayError) {
        let isHTTP10 = head.version.major == 1 && head.version.minor == 0
        // One pass over the fields, allocating nothing for the usual head (one Host, no Transfer-Encoding or Expect).
        var hosts = 0
        var host: String?
        var hasCoding = false
        var hasExpectation = false
        var contentTypes = 0
        var contentEncodings = 0
        for (name, value) in head.headers {
            switch name.utf8.count {
            case 4 where name.lowercased() == "host":
                hosts += 1
                host = value
            case 6 where name.lowercased() == "expect": hasExpectation = true
            case 17 where name.lowercased() == "transfer-encoding": hasCoding = true
            case 12 where name.lowercased() == "content-type": contentTypes += 1
            case 16 where name.lowercased() == "content-encoding": contentEncodings += 1
            default: break
            }
        }
        // The body is inspected as the first of these says; a vendor that joins repeated lines would read it otherwise.
        if contentTypes > 1 || contentEncodings > 1 {
            throw GatewayError(
                .badRequest, "Refused: Content-Type and Content-Encoding may each appear once. Nothing was forwarded."
            )
        }
        if hosts > 1 || (hosts == 0 && !isHTTP10) {
            throw GatewayError(
                .badRequest,
                "Refused: an HTTP/1.1 request needs exactly one Host header (it has \(hosts)). Nothing was forwarded."
            )
        }
        if let host, !host.utf8.allSatisfy(Self.isHostByte) {
            throw GatewayError(.badRequest, "Refused: the Host header is not a host name or address. Nothing was forwarded.")
        }
        if hasCoding {
            let codings = head.headers["transfer-encoding"]
            if isHTTP10 {
                throw GatewayError(.badRequest, "Refused: Transfer-Encoding is not defined in HTTP/1.0. Nothing was forwarded.")
            }
            let tokens = codings.flatMap { $0.split(separator: ",", omittingEmptySubsequences: false) }
                .map { HeaderHygiene.trimmed($0.utf8) }
            guard tokens.count == 1, tokens[0].lowercased() == "chunked" else {
                throw GatewayError(
                    .notImplemented,
                    "Refused: the only transfer coding this gateway accepts is exactly 'chunked'. Nothing was forwarded."
                )
            }
        }
        for expectation in hasExpectation ? head.headers["expect"] : []
        where HeaderHygiene.trimmed(expectation.utf8[...]).lowercased() != "100-continue" {
            throw GatewayError(.expectationFailed, "Refused: the only expectation this gateway meets is 100-continue.")
        }
    }

    // MARK: - Gateway keys out of place

    static func checkKeyPlacement(_ head: HTTPRequestHead) throws(GatewayError) {
        var target = head.uri
        let inTarget = target.utf8.contains(UInt8(ascii: "%"))
            ? PercentEncoding.decode(Array(target.utf8), plusIsSpace: false).withUnsafeBufferPointer(Self.holdsGatewayKey)
            : target.withUTF8(Self.holdsGatewayKey)
        if inTarget { throw Self.keyOutOfPlace("the request target") }
        for (name, value) in head.headers
        where !Self.credentialFields.contains(where: { name.utf8.count == $0.utf8.count && name.lowercased() == $0 }) {
            var value = value
            if value.withUTF8(Self.holdsGatewayKey) { throw Self.keyOutOfPlace("the \(name.lowercased()) header") }
        }
    }

    private static func keyOutOfPlace(_ place: String) -> GatewayError {
        GatewayError(
            .badRequest,
            "Refused: a gateway key was found in \(place). Send it only as 'Authorization: Bearer …' or 'x-api-key'; "
                + "nothing was forwarded. Rotate the key if it was logged elsewhere."
        )
    }

    /// Whether `bytes` hold `gwk_` (any case) followed by at least eight letters or digits: the start of a key.
    static func holdsGatewayKey(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard bytes.count >= 12 else { return false }
        var index = 0
        while index + 12 <= bytes.count {
            // Every field of every request passes here: compare bytes, allocate nothing.
            if bytes[index] | 0x20 == UInt8(ascii: "g"), bytes[index + 1] | 0x20 == UInt8(ascii: "w"),
                bytes[index + 2] | 0x20 == UInt8(ascii: "k"), bytes[index + 3] == UInt8(ascii: "_"),
                bytes[(index + 4)..<(index + 12)].allSatisfy(Self.isAlphanumeric)
            {
                return true
            }
            index += 1
        }
        return false
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        byte &- UInt8(ascii: "0") < 10 || (byte | 0x20) &- UInt8(ascii: "a") < 26
    }
}
