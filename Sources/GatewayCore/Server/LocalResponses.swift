import NIOCore
import NIOHTTP1

/// The answers the gateway writes itself, as response parts: errors in the vendor's shape, and its own JSON.
enum LocalResponses {
    /// The error in the vendor's error shape, with `x-gateway-error` naming its kind.
    static func error(_ error: GatewayError, context: RequestContext, keepAlive: Bool) -> [HTTPServerResponsePart] {
        let body = VendorErrorBody.render(error, shape: context.apiShape)
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Content-Length", value: String(body.utf8.count))
        headers.add(name: "x-request-id", value: context.requestID)
        headers.add(name: "x-gateway-error", value: error.kind.rawValue)
        if let seconds = error.retryAfterSeconds { headers.add(name: "Retry-After", value: String(seconds)) }
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        return [
            .head(HTTPResponseHead(version: .http1_1, status: error.status, headers: headers)),
            .body(.byteBuffer(ByteBuffer(string: body))), .end(nil),
        ]
    }

    /// 200 with the gateway's own JSON (an upload part it holds).
    static func answer(_ answer: LocalAnswer, requestID: String) -> [HTTPServerResponsePart] {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Content-Length", value: String(answer.json.utf8.count))
        headers.add(name: "x-request-id", value: requestID)
        return [
            .head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers)),
            .body(.byteBuffer(ByteBuffer(string: answer.json))), .end(nil),
        ]
    }

    static func bodyBytes(of parts: [HTTPServerResponsePart]) -> Int {
        parts.reduce(0) { total, part in
            if case .body(.byteBuffer(let buffer)) = part { total + buffer.readableBytes } else { total }
        }
    }
}
