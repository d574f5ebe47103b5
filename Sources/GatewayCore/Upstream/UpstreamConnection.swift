import GatewayConfig
import GatewayTLS
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOTLS
import Synchronization

/// One keep-alive connection to a vendor, verified before use, serving one exchange at a time.
///
/// A long-lived task owns the channel (`executeThenClose`) and serves exchanges submitted to it in order. A
/// connection is reused only after a complete response with keep-alive; anything else closes it.
final class UpstreamConnection: Sendable {
    private let exchanges: AsyncStream<UpstreamExchange>.Continuation
    let eventLoop: any EventLoop
    private let channel: any Channel

    private init(channel: any Channel, exchanges: AsyncStream<UpstreamExchange>.Continuation) {
        self.channel = channel
        self.eventLoop = channel.eventLoop
        self.exchanges = exchanges
    }

    var isActive: Bool { self.channel.isActive }

    /// Hands an exchange to the connection's task.
    func submit(_ exchange: UpstreamExchange) {
        exchange.whenCancelled { [channel] in channel.close(promise: nil) }
        self.exchanges.yield(exchange)
    }

    func close() {
        self.exchanges.finish()
        self.channel.close(promise: nil)
    }

    /// Connects, completes and verifies the TLS handshake, then starts serving.
    /// - Parameter release: called after each exchange with whether the connection can be reused.
    /// - Throws: `GatewayError` `.upstreamUnavailable` (refused, TLS or certificate failure) or `.upstreamTimeout`.
    static func connect(
        provider: ProviderSettings, tls: TLSContext?, group: any EventLoopGroup,
        release: @escaping @Sendable (UpstreamConnection, Bool) -> Void
    ) async throws(GatewayError) -> UpstreamConnection {
        let url = provider.baseURL
        let timeouts = provider.timeouts
        let idleSeconds = max(timeouts.idleSeconds, timeouts.firstByteSeconds)
        let established: (NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>, EventLoopFuture<Void>)
        do {
            established = try await ClientBootstrap(group: group)
                .connectTimeout(.seconds(Int64(timeouts.connectSeconds)))
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .connect(host: url.host, port: url.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let ready = channel.eventLoop.makePromise(of: Void.self)
                        let sync = channel.pipeline.syncOperations
                        if let tls {
                            // The gateway closes an upstream connection only when it wants nothing more from it
                            // (timeout, caller gone, not reusable, shutdown): send close_notify but do not wait for
                            // the vendor's, or a hung vendor delays the 504 and keeps streaming for 5 s more.
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
                        try sync.addHandler(IdleStateHandler(allTimeout: .seconds(Int64(idleSeconds))))
                        try sync.addHandler(IdleCloser())
                        let asyncChannel = try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(
                            wrappingChannelSynchronously: channel
                        )
                        return (asyncChannel, ready.futureResult)
                    }
                }
        } catch let error as ChannelError where error == .connectTimeout(.seconds(Int64(timeouts.connectSeconds))) {
            throw GatewayError(.upstreamTimeout, "Connecting to \(provider.name) timed out")
        } catch {
            throw GatewayError(.upstreamUnavailable, "Cannot connect to \(provider.name): \(Self.describe(error))")
        }
        do {
            try await established.1.get()
        } catch let error as GatewayError {
            // executeThenClose, not just close: an NIOAsyncChannel dropped with its writer unfinished traps.
            try? await established.0.executeThenClose { _, _ in }
            throw error
        } catch {
            try? await established.0.executeThenClose { _, _ in }
            throw GatewayError(
                .upstreamUnavailable, "TLS with \(provider.name) failed; nothing was sent: \(Self.describe(error))"
            )
        }
        let (stream, continuation) = AsyncStream<UpstreamExchange>.makeStream()
        let connection = UpstreamConnection(channel: established.0.channel, exchanges: continuation)
        let firstByte = TimeAmount.seconds(Int64(timeouts.firstByteSeconds))
        let asyncChannel = established.0
        Task {
            try? await asyncChannel.executeThenClose { inbound, outbound in
                var responses = inbound.makeAsyncIterator()
                for await exchange in stream {
                    let reusable = await Self.serve(
                        exchange, responses: &responses, outbound: outbound, channel: asyncChannel.channel,
                        firstByteTimeout: firstByte, providerName: provider.name
                    )
                    guard reusable, asyncChannel.channel.isActive else {
                        release(connection, false)
                        return
                    }
                    release(connection, true)
                }
            }
            continuation.finish()
            // Exchanges queued behind a failed one never started: fail them so their callers answer 502.
            for await orphan in stream {
                orphan.response.fail(GatewayError(.upstreamUnavailable, "The connection to \(provider.name) closed"))
            }
        }
        return connection
    }

    /// Responses up to this length (with `Content-Length`) are relayed as one batch.
    static let batchedResponseLimit = 256 * 1024

    /// Sends one request and relays its response. Returns whether the connection may serve another.
    private static func serve(
        _ exchange: UpstreamExchange,
        responses: inout NIOAsyncChannelInboundStream<HTTPClientResponsePart>.AsyncIterator,
        outbound: NIOAsyncChannelOutboundWriter<HTTPClientRequestPart>,
        channel: any Channel, firstByteTimeout: TimeAmount, providerName: String
    ) async -> Bool {
        if exchange.isCancelled { return false }
        let timedOut = Atomic<Bool>(false)
        let timer = channel.eventLoop.scheduleTask(in: firstByteTimeout) {
            timedOut.store(true, ordering: .releasing)
            channel.close(promise: nil)
        }
        defer { timer.cancel() }
        var keepAlive = false
        var sawHead = false
        do {
            try await outbound.write(contentsOf: [.head(exchange.head), .body(.byteBuffer(exchange.body)), .end(nil)])
            var batch: [HTTPClientResponsePart] = []
            var buffering = false
            while let part = try await responses.next() {
                if case .head(let head) = part {
                    timer.cancel()
                    sawHead = true
                    keepAlive = head.isKeepAlive
                    // Small, length-delimited answers go to the caller in one write; streams go part by part.
                    let length = head.headers.first(name: "content-length").flatMap(Int.init)
                    buffering = length.map { $0 <= Self.batchedResponseLimit } ?? false
                }
                batch.append(part)
                guard case .end = part else {
                    if buffering { continue }
                    await exchange.response.send(batch)
                    batch.removeAll(keepingCapacity: true)
                    if exchange.isCancelled { return false }
                    continue
                }
                // The vendor's answer is complete and the connection clean: decide reuse now, so that a caller
                // leaving from here on can neither close it nor, once reused, break the next exchange on it.
                let reusable = keepAlive && exchange.connectionDone()
                await exchange.response.send(batch)
                exchange.response.finish()
                return reusable
            }
            throw ChannelError.eof
        } catch {
            let failure: GatewayError =
                timedOut.load(ordering: .acquiring) && !sawHead
                ? GatewayError(.upstreamTimeout, "\(providerName) did not answer within \(firstByteTimeout.nanoseconds / 1_000_000_000) s")
                : GatewayError(.upstreamProtocol, "The connection to \(providerName) broke: \(describe(error))")
            exchange.response.fail(failure)
            return false
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
        if let event = event as? TLSUserEvent, case .handshakeCompleted = event { self.ready.succeed() }
        context.fireUserInboundEventTriggered(event)
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

/// Closes a connection that has been silent for the idle timeout.
private final class IdleCloser: ChannelInboundHandler {
    typealias InboundIn = NIOAny
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }
}
