import NIOCore
import NIOEmbedded
import Testing
@testable import GatewayCore

/// Flushes deferred to the end of the event loop's pass: none before it, one however often asked, none lost.
@Suite("Pass-end flush (EmbeddedChannel)")
struct PassEndFlushTests {
    /// Counts the flushes that reach the socket end of the pipeline.
    final class FlushCounter: ChannelOutboundHandler {
        typealias OutboundIn = ByteBuffer
        var flushes = 0
        func flush(context: ChannelHandlerContext) {
            self.flushes += 1
            context.flush()
        }
    }

    /// Asks for flushes from inside the pipeline, as the proxy's handlers do.
    final class Writer: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let passEndFlush = PassEndFlush()
        var context: ChannelHandlerContext?
        func handlerAdded(context: ChannelHandlerContext) { self.context = context }
        func write(_ text: String) {
            guard let context = self.context else { return }
            context.write(self.wrapOutboundOut(ByteBuffer(string: text)), promise: nil)
            self.passEndFlush.request(context)
        }
    }

    private func pipeline() throws -> (EmbeddedChannel, EmbeddedEventLoop, FlushCounter, Writer) {
        let loop = EmbeddedEventLoop()
        let counter = FlushCounter()
        let writer = Writer()
        let channel = EmbeddedChannel(loop: loop)
        try channel.pipeline.syncOperations.addHandlers(counter, writer)
        return (channel, loop, counter, writer)
    }

    @Test("Writes of one pass leave in one flush, after the pass")
    func onePassOneFlush() throws {
        let (channel, loop, counter, writer) = try self.pipeline()
        writer.write("first")
        writer.write("second")
        #expect(counter.flushes == 0)
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)
        #expect(writer.passEndFlush.isScheduled)
        loop.run()
        #expect(counter.flushes == 1)
        #expect(try channel.readOutbound(as: ByteBuffer.self).map { String(buffer: $0) } == "first")
        #expect(try channel.readOutbound(as: ByteBuffer.self).map { String(buffer: $0) } == "second")
        #expect(!writer.passEndFlush.isScheduled)
    }

    @Test("A write after the flush ran schedules another: nothing is left unflushed")
    func laterWritesFlushAgain() throws {
        let (channel, loop, counter, writer) = try self.pipeline()
        writer.write("first")
        loop.run()
        writer.write("second")
        loop.run()
        #expect(counter.flushes == 2)
        #expect(try channel.readOutbound(as: ByteBuffer.self).map { String(buffer: $0) } == "first")
        #expect(try channel.readOutbound(as: ByteBuffer.self).map { String(buffer: $0) } == "second")
    }
}
