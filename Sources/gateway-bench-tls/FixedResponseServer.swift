import NIOCore
import NIOHTTP1

/// `server --http`: answers every HTTP/1.1 request with one fixed JSON response over keep-alive, through
/// NIOHTTP1's decoder and encoder and our TLSHandler: the same layers gatewayd's caller side uses, and nothing else.
/// A reverse proxy runs these layers twice per request (once facing the caller, once facing the vendor), so this
/// server's CPU per request is a floor for half a proxy built on them (bench/proxy-bench --floor).
final class FixedResponseHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let body: ByteBuffer
    private let head: HTTPResponseHead
    private var keepAlive = true

    init(body: ByteBuffer) {
        self.body = body
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "application/json")
        headers.add(name: "content-length", value: String(body.readableBytes))
        self.head = HTTPResponseHead(version: .http1_1, status: .ok, headers: headers)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head(let request): self.keepAlive = request.isKeepAlive
        case .body: break
        case .end:
            context.write(self.wrapOutboundOut(.head(self.head)), promise: nil)
            context.write(self.wrapOutboundOut(.body(.byteBuffer(self.body))), promise: nil)
            let written = context.writeAndFlush(self.wrapOutboundOut(.end(nil)))
            if !self.keepAlive {
                let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
                written.whenComplete { _ in loopBound.value.close(promise: nil) }
            }
        }
    }
}

/// The handlers `server --http` adds after TLS.
func addFixedResponseHandlers(to pipeline: ChannelPipeline.SynchronousOperations, body: ByteBuffer) throws {
    try pipeline.addHandler(ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .forwardBytes)))
    try pipeline.addHandler(HTTPResponseEncoder())
    try pipeline.addHandler(FixedResponseHandler(body: body))
}
