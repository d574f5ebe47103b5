import NIOCore
import NIOHTTP1
import NIOPosix

/// The admin listener: `/healthz` (the process serves), `/readyz` (it accepts traffic: not draining) and
/// `/metrics` (Prometheus text), and `POST /reload` (re-read the configuration, policy and rules; the answer is the
/// reload's report as JSON, 200 when applied, 422 when refused). Plain HTTP on loopback by default; it serves no
/// vendor traffic.
enum AdminServer {
    static func bind(
        host: String, port: Int, group: any EventLoopGroup, metrics: GatewayMetrics,
        isReady: @escaping @Sendable () -> Bool, reload: @escaping @Sendable () async -> ReloadReport
    ) async throws -> any Channel {
        try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(AdminHandler(metrics: metrics, isReady: isReady, reload: reload))
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
    private let reload: @Sendable () async -> ReloadReport
    private var path = ""
    private var method = HTTPMethod.GET
    private var keepAlive = true

    init(metrics: GatewayMetrics, isReady: @escaping @Sendable () -> Bool, reload: @escaping @Sendable () async -> ReloadReport) {
        self.metrics = metrics
        self.isReady = isReady
        self.reload = reload
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            self.path = String(head.uri.split(separator: "?").first ?? "")
            self.keepAlive = head.isKeepAlive
            self.method = head.method
        case .body:
            break
        case .end where self.path == "/reload":
            guard self.method == .POST else {
                self.respond(context, .methodNotAllowed, "text/plain", "POST /reload re-reads the configuration\n")
                return
            }
            let answered = context.eventLoop.makePromise(of: ReloadReport.self)
            answered.completeWithTask { [reload] in await reload() }
            answered.futureResult.assumeIsolated().whenSuccess { report in
                self.respond(context, report.applied ? .ok : .unprocessableEntity, "application/json", report.json + "\n")
            }
        case .end:
            let (status, contentType, body): (HTTPResponseStatus, String, String) =
                switch self.path {
                case "/healthz": (.ok, "text/plain", "ok\n")
                case "/readyz": self.isReady() ? (.ok, "text/plain", "ready\n") : (.serviceUnavailable, "text/plain", "draining\n")
                case "/metrics": (.ok, "text/plain; version=0.0.4", self.metrics.render())
                default: (.notFound, "text/plain", "not found: try /healthz, /readyz, /metrics, POST /reload\n")
                }
            self.respond(context, status, contentType, body)
        }
    }

    private func respond(_ context: ChannelHandlerContext, _ status: HTTPResponseStatus, _ contentType: String, _ body: String) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: contentType)
        headers.add(name: "Content-Length", value: String(body.utf8.count))
        context.write(self.wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        context.write(self.wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: body)))), promise: nil)
        context.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: nil)
        if !self.keepAlive { context.close(promise: nil) }
    }
}
