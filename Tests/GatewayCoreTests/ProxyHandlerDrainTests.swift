import GatewayConfig
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing
@testable import GatewayCore

/// The caller's connection handler driven by hand on an `EmbeddedChannel`: an answer waiting for the end of the
/// event loop's pass is not lost when the connection is closed for a drain in that same pass.
@Suite("Proxy handler and the drain (EmbeddedChannel)")
struct ProxyHandlerDrainTests {
    /// Refuses every body, as a policy block would: the answer is a keep-alive 403 written after the body was read.
    struct RefuseEveryBody: GatewayFilter {
        func inspectBody(_ body: inout RequestBody, context: inout RequestContext, state: inout Void) throws(GatewayError) {
            throw GatewayError(.forbidden, "refused by the test filter")
        }
    }

    /// What reaches the socket end of the pipeline, in order. A real socket fails writes still unflushed when it
    /// closes (an `EmbeddedChannel` does not), so the order is what must hold.
    final class SocketEvents: ChannelOutboundHandler {
        typealias OutboundIn = ByteBuffer
        var events: [String] = []
        func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
            self.events.append("write")
            context.write(data, promise: promise)
        }
        func flush(context: ChannelHandlerContext) {
            self.events.append("flush")
            context.flush()
        }
        func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
            self.events.append("close")
            context.close(mode: mode, promise: promise)
        }
    }

    @Test("A drain in the pass that wrote the last answer flushes it before closing")
    func drainFlushesThePendingAnswer() async throws {
        try await GatewayHarness.run { harness in
            // Records off: the refusal is answered at once, on the embedded loop, without the log's I/O thread.
            let pipeline = RequestPipeline(
                configuration: harness.configuration, filters: [RefuseEveryBody()], metrics: GatewayMetrics(),
                audit: nil
            )
            let settings = ProxySettings(
                live: LivePipeline(pipeline), upstreams: [:], maxBodyBytes: 1 << 20, registry: ConnectionRegistry(),
                metrics: GatewayMetrics(), offLoopInspectionBytes: 1 << 20, inspectionPool: nil,
                bodyBudget: BodyBudget(limit: 1 << 30)
            )
            let loop = EmbeddedEventLoop()
            let channel = EmbeddedChannel(loop: loop)
            let socket = SocketEvents()
            try channel.pipeline.syncOperations.addHandler(socket)
            try channel.pipeline.syncOperations.addHandler(HTTPResponseEncoder())
            try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(HTTPRequestDecoder()))
            try channel.pipeline.syncOperations.addHandler(ProxyHandler(settings: settings))
            try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 8443)).get()

            try channel.writeInbound(
                ByteBuffer(string: "POST /v1/chat/completions HTTP/1.1\r\nHost: gw\r\nContent-Length: 2\r\n\r\n{}")
            )
            // The 403 is written, and its flush waits for the end of the pass: nothing has left yet.
            #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)
            #expect(!socket.events.contains("flush"))
            channel.pipeline.fireUserInboundEventTriggered(DrainRequested())
            loop.run()
            let flushed = try #require(socket.events.firstIndex(of: "flush"))
            let closed = try #require(socket.events.firstIndex(of: "close"))
            #expect(flushed < closed)

            var sent = ""
            while let chunk = try channel.readOutbound(as: ByteBuffer.self) { sent += String(buffer: chunk) }
            #expect(sent.hasPrefix("HTTP/1.1 403"))
            #expect(sent.contains("refused by the test filter"))
            #expect(!channel.isActive)
        }
    }
}
