import NIOCore
import NIOHTTP1

/// Phases 5 and 6: the vendor's answer relayed to the caller as it arrives.
extension ProxyHandler: UpstreamResponseReceiver {
    private var relaying: (InFlightRequest, ChannelHandlerContext, UpstreamConnection)? {
        guard case .relaying(let connection) = self.state, let flight = self.currentRequest, let context = self.channelContext
        else { return nil }
        return (flight, context, connection)
    }

    func upstreamResponseHead(_ vendorHead: HTTPResponseHead) {
        guard let (flight, context, _) = self.relaying else { return }
        var head = HeaderHygiene.downstreamHead(
            from: vendorHead, requestID: flight.context.requestID, keepAlive: flight.head.isKeepAlive
        )
        flight.context.upstreamStatus = Int(vendorHead.status.code)
        flight.context.responseStatus = Int(vendorHead.status.code)
        flight.context.streamed = head.headers.first(name: "content-type")?.hasPrefix("text/event-stream") ?? false
        flight.chunked = !head.headers.contains(name: "content-length")
        self.settings.pipeline.responseHead(&head, context: &flight.context)
        context.write(self.wrapOutboundOut(.head(head)), promise: nil)
    }

    func upstreamResponseBody(_ chunk: ByteBuffer) {
        guard let (flight, context, connection) = self.relaying else { return }
        var chunk = chunk
        self.settings.pipeline.responseBody(&chunk, context: &flight.context)
        flight.context.responseBytes += chunk.readableBytes
        context.write(self.wrapOutboundOut(.body(.byteBuffer(chunk))), promise: nil)
        if !context.channel.isWritable { connection.handler.setReading(false) }
    }

    func upstreamReadComplete() {
        if let context = self.channelContext { self.passEndFlush.request(context) }
    }

    func upstreamResponseEnd() {
        guard let (flight, _, _) = self.relaying else { return }
        self.finish(flight, keepAlive: flight.head.isKeepAlive, lastParts: [.end(nil)])
    }

    func upstreamFailed(_ error: GatewayError, responseStarted: Bool) {
        guard let (flight, _, _) = self.relaying else { return }
        flight.context.error = error
        if !responseStarted {
            self.respond(error, flight: flight, keepAlive: false)
        } else {
            // The vendor broke mid-stream: end a chunked stream cleanly so the caller's parser is not left hanging;
            // a length-delimited body cannot be completed, so the connection closes either way.
            self.finish(flight, keepAlive: false, lastParts: flight.chunked ? [.end(nil)] : [])
        }
    }

    /// Answers locally in the vendor's error shape.
    func respond(_ error: GatewayError, flight: InFlightRequest, keepAlive: Bool) {
        let body = VendorErrorBody.render(error, shape: flight.context.apiShape)
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Content-Length", value: String(body.utf8.count))
        headers.add(name: "x-request-id", value: flight.context.requestID)
        headers.add(name: "x-gateway-error", value: error.kind.rawValue)
        if let seconds = error.retryAfterSeconds { headers.add(name: "Retry-After", value: String(seconds)) }
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        flight.context.responseStatus = Int(error.status.code)
        flight.context.responseBytes = body.utf8.count
        self.finish(
            flight, keepAlive: keepAlive,
            lastParts: [
                .head(HTTPResponseHead(version: .http1_1, status: error.status, headers: headers)),
                .body(.byteBuffer(ByteBuffer(string: body))), .end(nil),
            ]
        )
    }
}
