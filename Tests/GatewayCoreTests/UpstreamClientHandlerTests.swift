import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing
@testable import GatewayCore

/// The upstream connection's state machine, driven by hand on an `EmbeddedChannel`: what is written, what the
/// receiver hears, when the connection may be reused, and the two timers.
@Suite("Upstream client handler (EmbeddedChannel)")
struct UpstreamClientHandlerTests {
    /// Records what the handler tells the caller's side.
    final class Receiver: UpstreamResponseReceiver {
        var events: [String] = []
        var failure: GatewayError?
        func upstreamResponseHead(_ head: HTTPResponseHead) { self.events.append("head \(head.status.code)") }
        func upstreamResponseBody(_ chunk: ByteBuffer) { self.events.append("body \(String(buffer: chunk))") }
        func upstreamReadComplete() { self.events.append("flush") }
        func upstreamResponseEnd() { self.events.append("end") }
        func upstreamFailed(_ error: GatewayError, responseStarted: Bool) {
            self.failure = error
            self.events.append("failed \(error.kind.rawValue) started=\(responseStarted)")
        }
    }

    private struct Fixture {
        let channel: EmbeddedChannel
        let loop: EmbeddedEventLoop
        let handler: UpstreamClientHandler
        let receiver = Receiver()
        var reuse: [Bool] { self.reuseBox.values }
        let reuseBox = Box()
        final class Box { var values: [Bool] = [] }
    }

    private func fixture(idle: TimeAmount = .seconds(60)) throws -> Fixture {
        let loop = EmbeddedEventLoop()
        let handler = UpstreamClientHandler(providerName: "vendor", idleTimeout: idle)
        let channel = EmbeddedChannel(loop: loop)
        try channel.pipeline.syncOperations.addHandler(handler)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 443)).wait()
        let fixture = Fixture(channel: channel, loop: loop, handler: handler)
        handler.onExchangeEnd = { [box = fixture.reuseBox] reusable in box.values.append(reusable) }
        return fixture
    }

    private func send(_ fixture: Fixture, firstByte: TimeAmount = .seconds(5)) {
        let head = HTTPRequestHead(version: .http1_1, method: .POST, uri: "/v1/chat/completions")
        fixture.handler.send(head: head, body: ByteBuffer(string: "{}"), to: fixture.receiver, firstByteTimeout: firstByte)
    }

    private func respond(_ fixture: Fixture, keepAlive: Bool = true, body: String = "ok") throws {
        var headers = HTTPHeaders()
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        try fixture.channel.writeInbound(HTTPClientResponsePart.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers)))
        try fixture.channel.writeInbound(HTTPClientResponsePart.body(ByteBuffer(string: body)))
        try fixture.channel.writeInbound(HTTPClientResponsePart.end(nil))
    }

    @Test("The request goes out as head, body, end; the response is relayed in order; keep-alive makes it reusable")
    func exchangeRelaysAndAllowsReuse() throws {
        let fixture = try self.fixture()
        self.send(fixture)
        // Written now, flushed once the loop's pass ends (with the other requests of that pass).
        #expect(try fixture.channel.readOutbound(as: HTTPClientRequestPart.self) == nil)
        fixture.loop.run()
        let parts = try (0..<3).map { _ in try fixture.channel.readOutbound(as: HTTPClientRequestPart.self) }
        guard case .head(let head) = parts[0], case .body(.byteBuffer(let body)) = parts[1], case .end = parts[2] else {
            Issue.record("unexpected request parts \(parts)")
            return
        }
        #expect(head.uri == "/v1/chat/completions")
        #expect(String(buffer: body) == "{}")
        try self.respond(fixture)
        #expect(fixture.receiver.events.filter { $0 != "flush" } == ["head 200", "body ok", "end"])
        #expect(fixture.reuse == [true])
        #expect(fixture.handler.isIdle)
        #expect(fixture.channel.isActive)
    }

    @Test("Reading paused by the caller's backpressure is resumed when the exchange ends, before reuse")
    func readingResumesBeforeReuse() throws {
        let fixture = try self.fixture()
        self.send(fixture)
        try fixture.channel.writeInbound(HTTPClientResponsePart.head(HTTPResponseHead(version: .http1_1, status: .ok)))
        fixture.handler.setReading(false)  // the caller stopped being writable
        #expect(!fixture.handler.isReading)
        try fixture.channel.writeInbound(HTTPClientResponsePart.body(ByteBuffer(string: "rest")))
        try fixture.channel.writeInbound(HTTPClientResponsePart.end(nil))
        #expect(fixture.reuse == [true])
        #expect(fixture.handler.isReading, "an idle pooled connection that does not read")
    }

    @Test("A response without keep-alive is not reused and the connection closes")
    func closeAfterResponseWithoutKeepAlive() throws {
        let fixture = try self.fixture()
        self.send(fixture)
        try self.respond(fixture, keepAlive: false)
        #expect(fixture.reuse == [false])
        #expect(fixture.receiver.events.last == "end")
        #expect(!fixture.channel.isActive)
    }

    @Test("No first byte within the timeout: 504 to the caller, the connection closed, never reused")
    func firstByteTimeout() throws {
        let fixture = try self.fixture()
        self.send(fixture, firstByte: .seconds(5))
        fixture.loop.advanceTime(by: .seconds(4))
        #expect(fixture.receiver.events.isEmpty)
        fixture.loop.advanceTime(by: .seconds(2))
        #expect(fixture.receiver.events == ["failed upstreamTimeout started=false"])
        #expect(fixture.reuse == [false])
        #expect(!fixture.channel.isActive)
    }

    @Test("One timer serves both deadlines: a request sent late in an idle period still gets its full first-byte time")
    func firstByteDeadlineAfterIdleTime() throws {
        let fixture = try self.fixture(idle: .seconds(10))
        fixture.loop.advanceTime(by: .seconds(8))  // idle in the pool; the connection's check is due at 10 s
        self.send(fixture, firstByte: .seconds(5))  // first byte due at 13 s
        fixture.loop.advanceTime(by: .seconds(4))  // 12 s: the check at 10 s saw recent activity and re-armed
        #expect(fixture.receiver.events.isEmpty)
        #expect(fixture.channel.isActive)
        fixture.loop.advanceTime(by: .seconds(2))  // 14 s
        #expect(fixture.receiver.events == ["failed upstreamTimeout started=false"])
        #expect(!fixture.channel.isActive)
    }

    @Test("A response head in time ends the first-byte deadline: a slow body is judged by the idle timeout only")
    func headInTimeEndsTheFirstByteDeadline() throws {
        let fixture = try self.fixture(idle: .seconds(60))
        self.send(fixture, firstByte: .seconds(5))
        fixture.loop.advanceTime(by: .seconds(3))
        try fixture.channel.writeInbound(HTTPClientResponsePart.head(HTTPResponseHead(version: .http1_1, status: .ok)))
        fixture.loop.advanceTime(by: .seconds(30))
        #expect(fixture.channel.isActive)
        #expect(fixture.receiver.events.allSatisfy { !$0.hasPrefix("failed") })
        try fixture.channel.writeInbound(HTTPClientResponsePart.end(nil))
        #expect(fixture.reuse == [true])
    }

    @Test("A vendor silent mid-stream for the idle timeout: the stream is failed as started, the connection closed")
    func idleMidStream() throws {
        let fixture = try self.fixture(idle: .seconds(3))
        self.send(fixture)
        try fixture.channel.writeInbound(HTTPClientResponsePart.head(HTTPResponseHead(version: .http1_1, status: .ok)))
        fixture.loop.advanceTime(by: .seconds(2))
        try fixture.channel.writeInbound(HTTPClientResponsePart.body(ByteBuffer(string: "data: 1\n\n")))
        fixture.loop.advanceTime(by: .seconds(2))  // 2 s after the last byte: still fine
        #expect(fixture.channel.isActive)
        fixture.loop.advanceTime(by: .seconds(2))  // 4 s of silence
        #expect(!fixture.channel.isActive)
        #expect(fixture.receiver.events.last?.hasPrefix("failed upstreamProtocol started=true") == true)
        #expect(fixture.reuse == [false])
    }

    @Test("A body before the head is a protocol failure, not relayed")
    func partOutOfOrder() throws {
        let fixture = try self.fixture()
        self.send(fixture)
        try fixture.channel.writeInbound(HTTPClientResponsePart.body(ByteBuffer(string: "stray")))
        #expect(fixture.receiver.events == ["failed upstreamProtocol started=false"])
        #expect(!fixture.channel.isActive)
    }

    @Test("The caller leaving mid-exchange closes the connection; nothing more is relayed")
    func abandon() throws {
        let fixture = try self.fixture()
        self.send(fixture)
        try fixture.channel.writeInbound(HTTPClientResponsePart.head(HTTPResponseHead(version: .http1_1, status: .ok)))
        fixture.handler.abandon()
        #expect(!fixture.channel.isActive)
        #expect(fixture.receiver.events.filter { $0 != "flush" } == ["head 200"])
    }
}
