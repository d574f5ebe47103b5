import GatewayConfig
import GatewayTLS
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOTLS
import Synchronization

/// One keep-alive connection to a vendor, verified before use, bound to one event loop.
///
/// The connection is opened on the event loop of the caller that needs it, so a request and its response cross no
/// thread. Its handler is reached only on that loop; the pool may hold the connection from any thread.
final class UpstreamConnection: Sendable {
    let channel: any Channel
    private let boundHandler: NIOLoopBound<UpstreamClientHandler>
    /// Set once the connection stops counting against the pool's bound (closed, or its slot handed on).
    private let retired = Atomic<Bool>(false)

    var eventLoop: any EventLoop { self.channel.eventLoop }

    /// The handler; only on `eventLoop`.
    var handler: UpstreamClientHandler { self.boundHandler.value }

    /// A connection over `channel`, whose pipeline ends in `handler`; `connect` makes real ones.
    init(channel: any Channel, handler: UpstreamClientHandler) {
        self.channel = channel
        self.boundHandler = NIOLoopBound(handler, eventLoop: channel.eventLoop)
    }

    /// Marks the connection as no longer counted; returns false when it already was.
    func retire() -> Bool { !self.retired.exchange(true, ordering: .acquiringAndReleasing) }

    /// Connects on `loop`, completes and verifies the TLS handshake, and returns the connection ready to send.
    /// - Returns: a future on `loop`, failing with `GatewayError` `.upstreamUnavailable` (refused, TLS or
    ///   certificate failure: nothing was sent) or `.upstreamTimeout`.
    static func connect(
        provider: ProviderSettings, tls: TLSContext?, on loop: any EventLoop
    ) -> EventLoopFuture<UpstreamConnection> {
        let url = provider.baseURL
        let timeouts = provider.timeouts
        let idleSeconds = max(timeouts.idleSeconds, timeouts.firstByteSeconds)
        let connectTimeout = TimeAmount.seconds(Int64(timeouts.connectSeconds))
        let ready = loop.makePromise(of: Void.self)
        let connected = ClientBootstrap(group: loop)
            .connectTimeout(connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    if let tls {
                        // The gateway closes an upstream connection only when it wants nothing more from it
                        // (timeout, caller gone, not reusable, shutdown): send close_notify but do not wait for the
                        // vendor's, or a hung vendor delays the 504 and keeps streaming for 5 s more.
                        try sync.addHandler(
                            try TLSHandler(clientContext: tls, serverHostname: url.host, shutdownTimeout: .zero)
                        )
                        try sync.addHandler(HandshakeGate(ready: ready))
                        let timeout = channel.eventLoop.scheduleTask(in: .seconds(Int64(timeouts.tlsSeconds))) {
                            ready.fail(GatewayError(.upstreamTimeout, "TLS handshake with \(provider.name) timed out"))
                            channel.close(promise: nil)
                        }
                        ready.futureResult.whenComplete { _ in timeout.cancel() }
                    } else {
                        ready.succeed()
                    }
                    try sync.addHTTPClientHandlers()
                    try sync.addHandler(
                        UpstreamClientHandler(providerName: provider.name, idleTimeout: .seconds(Int64(idleSeconds)))
                    )
                }
            }
            .connect(host: url.host, port: url.port)
        connected.whenFailure { ready.fail($0) }
        return connected.and(ready.futureResult).flatMapErrorThrowing { error in
            if let error = error as? GatewayError { throw error }
            if let error = error as? ChannelError, case .connectTimeout = error {
                throw GatewayError(.upstreamTimeout, "Connecting to \(provider.name) timed out")
            }
            // The caller learns what failed, not OpenSSL's or the kernel's words for it (they name the gateway's
            // internals); those go to the outcome record and the log as the error's detail.
            if error is TLSError {
                throw GatewayError(
                    .upstreamUnavailable,
                    "The gateway could not establish a verified TLS connection to \(provider.name); nothing was sent.",
                    detail: Self.describe(error)
                )
            }
            throw GatewayError(
                .upstreamUnavailable, "The gateway cannot reach \(provider.name) right now; nothing was sent.",
                detail: Self.describe(error)
            )
        }.flatMapThrowing { channel, _ in
            let handler = try channel.pipeline.syncOperations.handler(type: UpstreamClientHandler.self)
            return UpstreamConnection(channel: channel, handler: handler)
        }.flatMapErrorWithEventLoop { error, loop in
            // A channel that connected but failed its handshake is closed by its TLS handler; make sure.
            connected.whenSuccess { $0.close(promise: nil) }
            return loop.makeFailedFuture(error)
        }
    }

    static func describe(_ error: any Error) -> String {
        if let tls = error as? TLSError { return tls.description }
        if let io = error as? IOError { return io.description }
        return String(describing: error)
    }
}

/// Completes `ready` when the TLS handshake (and so the certificate check) has succeeded, or fails it.
private final class HandshakeGate: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny
    private let ready: EventLoopPromise<Void>
    init(ready: EventLoopPromise<Void>) { self.ready = ready }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        context.fireUserInboundEventTriggered(event)
        if let event = event as? TLSUserEvent, case .handshakeCompleted = event {
            self.ready.succeed()
            // Its work is done: leave the pipeline so that no later read or error passes through it.
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        }
    }
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.ready.fail(error)
        context.fireErrorCaught(error)
    }
    func channelInactive(context: ChannelHandlerContext) {
        self.ready.fail(TLSError.eofDuringHandshake)
        context.fireChannelInactive()
    }
}
