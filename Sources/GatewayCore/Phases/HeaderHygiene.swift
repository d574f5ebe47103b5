import Foundation
import GatewayConfig
import NIOHTTP1

/// What crosses the proxy in headers, in both directions.
enum HeaderHygiene {
    /// RFC 9110 §7.6.1 hop-by-hop fields, plus proxy credentials: never forwarded either way.
    static let hopByHop: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
        "proxy-authorization", "proxy-authenticate",
    ]
    /// The caller's credentials and anything a vendor could use to learn the client's network position.
    static let callerOnly: Set<String> = [
        "authorization", "x-api-key", "api-key", "cookie", "forwarded", "x-forwarded-for", "x-forwarded-host",
        "x-forwarded-proto", "x-real-ip", "via", "x-gateway-release",
    ]
    /// Recomputed by the gateway.
    static let recomputed: Set<String> = ["host", "content-length", "expect"]

    /// The field names `Connection` lists as hop-by-hop for this message.
    static func connectionListed(_ headers: HTTPHeaders) -> Set<String> {
        var names = Set<String>()
        for value in headers["connection"] {
            for token in value.utf8.split(separator: UInt8(ascii: ",")) {
                names.insert(Self.trimmed(token).lowercased())
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

    /// The head to send upstream: hop-by-hop and caller fields dropped, `Host` set to the vendor, the vendor key
    /// set exactly once, and the body length given by `Content-Length`.
    static func upstreamHead(
        from head: HTTPRequestHead, provider: ProviderSettings, bodyLength: Int, dropContentEncoding: Bool,
        clientAddress: String?, forwardClientAddress: Bool
    ) -> HTTPRequestHead {
        let listed = connectionListed(head.headers)
        let credentialName = provider.credential.header.lowercased()
        var headers = HTTPHeaders()
        headers.reserveCapacity(head.headers.count + 4)
        headers.add(name: "Host", value: provider.baseURL.hostHeader)
        for (name, value) in head.headers {
            let lower = name.lowercased()
            if hopByHop.contains(lower) || callerOnly.contains(lower) || recomputed.contains(lower)
                || listed.contains(lower) || lower == credentialName
            {
                continue
            }
            if dropContentEncoding && lower == "content-encoding" { continue }
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
        for (name, value) in head.headers {
            let lower = name.lowercased()
            if hopByHop.contains(lower) || listed.contains(lower) || lower == "x-request-id" { continue }
            headers.add(name: name, value: value)
        }
        headers.add(name: "x-request-id", value: requestID)
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        return HTTPResponseHead(version: .http1_1, status: head.status, headers: headers)
    }
}
