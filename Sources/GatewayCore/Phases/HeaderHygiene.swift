import Foundation
import GatewayConfig
import NIOHTTP1

/// What crosses the proxy in headers, in both directions.
enum HeaderHygiene {
    /// Why a request field is not copied upstream.
    private enum Dropped { case hopByHop, callerOnly, recomputed }

    /// The fields never copied as they are, by lower-cased name, grouped by length so that classifying a name
    /// costs a few byte comparisons and no allocation (every field of every request and response passes here):
    /// - hop-by-hop (RFC 9110 §7.6.1) and proxy credentials: never forwarded either way;
    /// - caller-only: the caller's credentials and anything a vendor could use to learn the client's network
    ///   position (request direction only);
    /// - recomputed by the gateway (request direction only).
    private static let dropped: [Int: [(String, Dropped)]] = {
        let table: [(String, Dropped)] = [
            ("connection", .hopByHop), ("keep-alive", .hopByHop), ("proxy-connection", .hopByHop), ("te", .hopByHop),
            ("trailer", .hopByHop), ("transfer-encoding", .hopByHop), ("upgrade", .hopByHop),
            ("proxy-authorization", .hopByHop), ("proxy-authenticate", .hopByHop),
            ("authorization", .callerOnly), ("x-api-key", .callerOnly), ("api-key", .callerOnly),
            ("cookie", .callerOnly), ("forwarded", .callerOnly), ("x-forwarded-for", .callerOnly),
            ("x-forwarded-host", .callerOnly), ("x-forwarded-proto", .callerOnly), ("x-real-ip", .callerOnly),
            ("via", .callerOnly), ("x-gateway-release", .callerOnly),
            ("host", .recomputed), ("content-length", .recomputed), ("expect", .recomputed),
        ]
        return Dictionary(grouping: table, by: { $0.0.utf8.count })
    }()

    /// How `name` is dropped, compared case-insensitively, or nil when it is an ordinary field.
    private static func dropped(_ name: String) -> Dropped? {
        Self.dropped[name.utf8.count]?.first { name.caseInsensitiveEquals($0.0) }?.1
    }

    /// `byte` with ASCII upper-case letters folded to lower case.
    static func asciiLowercased(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte + 32 : byte
    }

    /// The field names `Connection` lists as hop-by-hop for this message (lower-cased), other than `keep-alive`,
    /// which is dropped anyway. Nearly every message lists nothing else (or has no `Connection`), and then nothing
    /// is allocated: this runs for every request and every response.
    static func connectionListed(_ headers: HTTPHeaders) -> Set<String> {
        var names = Set<String>()
        for (name, value) in headers where name.caseInsensitiveEquals("connection") {
            var rest = Substring(value).utf8[...]
            while !rest.isEmpty {
                let end = rest.firstIndex(of: UInt8(ascii: ",")) ?? rest.endIndex
                let token = Self.trimmed(rest[..<end])
                if !token.isEmpty, !token.caseInsensitiveEquals("keep-alive") { names.insert(token.lowercased()) }
                rest = end == rest.endIndex ? rest[end...] : rest[rest.index(after: end)...]
            }
        }
        return names
    }

    /// The field value without the optional whitespace (space, tab) HTTP allows around it.
    static func trimmed(_ value: Substring.UTF8View) -> String {
        let isWhitespace = { (byte: UInt8) in byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        guard let first = value.firstIndex(where: { !isWhitespace($0) }),
            let last = value.lastIndex(where: { !isWhitespace($0) })
        else { return "" }
        return String(Substring(value[first...last]))
    }

    /// Whether the gateway sets or drops a field itself (hop-by-hop, caller credentials, `Host`, `Content-Length`,
    /// `Expect`), apart from the provider's allow-list.
    static func isManagedByGateway(_ name: String) -> Bool { Self.dropped(name) != nil }

    /// The head to send upstream: only the fields on the provider's allow-list (`forward_headers`), `Host` set to
    /// the vendor, the vendor key set exactly once, and the body length given by `Content-Length`. Fields dropped
    /// because the allow-list does not name them are counted in `droppedFields`.
    static func upstreamHead(
        from head: HTTPRequestHead, provider: ProviderSettings, bodyLength: Int, dropContentEncoding: Bool,
        clientAddress: String?, forwardClientAddress: Bool, droppedFields: inout Int
    ) -> HTTPRequestHead {
        // `Connection` rarely names more than `keep-alive` (dropped anyway) or `close`; only then are names lower-cased.
        let listed = connectionListed(head.headers)
        let credentialName = provider.credential.header
        let allowed = provider.forwardHeaders
        var headers = HTTPHeaders()
        headers.reserveCapacity(head.headers.count + 4)
        headers.add(name: "Host", value: provider.baseURL.hostHeader)
        for (name, value) in head.headers {
            if Self.dropped(name) != nil || name.caseInsensitiveEquals(credentialName) { continue }
            if !listed.isEmpty, listed.contains(name.lowercased()) { continue }
            if dropContentEncoding && name.caseInsensitiveEquals("content-encoding") { continue }
            guard allowed.allows(name) else {
                droppedFields += 1
                continue
            }
            headers.add(name: name, value: value)
        }
        headers.add(name: provider.credential.header, value: provider.credential.value)
        if forwardClientAddress, let clientAddress { headers.add(name: "X-Forwarded-For", value: clientAddress) }
        if bodyLength > 0 || (head.method != .GET && head.method != .HEAD) {
            headers.add(name: "Content-Length", value: String(bodyLength))
        }
        headers.add(name: "Connection", value: "keep-alive")  // the caller's Connection was dropped above
        return HTTPRequestHead(
            version: .http1_1, method: head.method, uri: provider.baseURL.upstreamPath(for: head.uri), headers: headers
        )
    }

    /// The vendor's response head as the caller gets it: hop-by-hop fields dropped, the request id added.
    static func downstreamHead(from head: HTTPResponseHead, requestID: String, keepAlive: Bool) -> HTTPResponseHead {
        let listed = connectionListed(head.headers)
        var headers = HTTPHeaders()
        headers.reserveCapacity(head.headers.count + 2)
        for (name, value) in head.headers {
            if Self.dropped(name) == .hopByHop || name.caseInsensitiveEquals("x-request-id") { continue }
            if !listed.isEmpty, listed.contains(name.lowercased()) { continue }
            headers.add(name: name, value: value)
        }
        headers.add(name: "x-request-id", value: requestID)
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        return HTTPResponseHead(version: .http1_1, status: head.status, headers: headers)
    }
}

extension String {
    /// Equality ignoring ASCII case, without allocating (HTTP field names are ASCII tokens).
    fileprivate func caseInsensitiveEquals(_ other: String) -> Bool {
        self.utf8.count == other.utf8.count
            && zip(self.utf8, other.utf8).allSatisfy {
                HeaderHygiene.asciiLowercased($0) == HeaderHygiene.asciiLowercased($1)
            }
    }
}
