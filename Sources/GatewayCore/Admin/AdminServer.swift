import NIOCore
import NIOHTTP1
import NIOPosix

/// The admin listener: `/healthz` (the process serves), `/readyz` (it accepts traffic: not draining) and
/// `/metrics` (Prometheus text). Plain HTTP on loopback by default; it serves no vendor traffic.
enum AdminServer {
    static func bind(
        host: String, port: Int, group: any EventLoopGroup, metrics: GatewayMetrics,
        isReady: @escaping @Sendable () -> Bool
    ) async throws -> any Channel {
        try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(AdminHandler(metrics: metrics, isReady: isReady))
                }
            }
            .bind(host: host, port: port).get()
    }
}

private final class AdminHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let metrics: GatewayMetrics
    private let isReady: @Sendable () -> Bool
    private var path = ""
    private var keepAlive = true

    init(metrics: GatewayMetrics, isReady: @escaping @Sendable () -> Bool) {
        self.metrics = metrics
        self.isReady = isReady
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            self.path = String(head.uri.split(separator: "?").first ?? "")
            self.keepAlive = head.isKeepAlive
        case .body:
            break
        case .end:
            let (status, contentType, body): (HTTPResponseStatus, String, String) =
                switch self.path {
                case "/healthz": (.ok, "text/plain", "ok\n")
                case "/readyz": self.isReady() ? (.ok, "text/plain", "ready\n") : (.serviceUnavailable, "text/plain", "draining\n")
                case "/metrics": (.ok, "text/plain; version=0.0.4", self.metrics.render())
                default: (.notFound, "text/plain", "not found: try /healthz, /readyz, /metrics\n")
                }
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: contentType)
            headers.add(name: "Content-Length", value: String(body.utf8.count))
            context.write(self.wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
            context.write(self.wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: body)))), promise: nil)
            context.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: nil)
            if !self.keepAlive { context.close(promise: nil) }
        }
    }
}
