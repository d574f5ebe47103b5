import NIOCore
import NIOHTTP1
import NIOPosix

/// A request to the admin listener (`gatewayctl reload`): plain HTTP/1.1, one exchange, bounded in time.
public enum AdminClient {
    public struct Response: Sendable {
        public let status: Int
        public let body: String
    }

    public enum Failure: Error, CustomStringConvertible {
        case unreachable(String)
        case timedOut
        case malformed

        public var description: String {
            switch self {
            case .unreachable(let detail): "the admin listener cannot be reached: \(detail)"
            case .timedOut: "the admin listener did not answer in time"
            case .malformed: "the admin listener's answer is not HTTP"
            }
        }
    }

    /// Sends `method path` to `host:port` and returns the whole answer.
    public static func send(
        _ method: String, _ path: String, host: String, port: Int, timeout: TimeAmount = .seconds(60)
    ) async throws -> Response {
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.seconds(5))
                .connect(host: host, port: port).get()
        } catch {
            throw Failure.unreachable("\(host):\(port): \(error)")
        }
        let collected = channel.eventLoop.makePromise(of: ByteBuffer.self)
        try await channel.eventLoop.submit {
            try channel.pipeline.syncOperations.addHandler(Collector(done: collected))
        }.get()
        let request = "\(method) \(path) HTTP/1.1\r\nHost: \(host)\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        try await channel.writeAndFlush(ByteBuffer(string: request)).get()
        let deadline = channel.eventLoop.scheduleTask(in: timeout) {
            collected.fail(Failure.timedOut)
            channel.close(promise: nil)
        }
        defer { deadline.cancel() }
        let text = String(buffer: try await collected.futureResult.get())
        guard let split = text.range(of: "\r\n\r\n"), let statusLine = text.split(separator: "\r\n").first,
              let status = statusLine.split(separator: " ").dropFirst().first.flatMap({ Int($0) })
        else { throw Failure.malformed }
        return Response(status: status, body: String(text[split.upperBound...]))
    }

    /// Gathers every byte until the listener closes the connection (`Connection: close`).
    private final class Collector: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        private var received = ByteBuffer()
        private let done: EventLoopPromise<ByteBuffer>

        init(done: EventLoopPromise<ByteBuffer>) { self.done = done }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var chunk = self.unwrapInboundIn(data)
            self.received.writeBuffer(&chunk)
        }

        func channelInactive(context: ChannelHandlerContext) { self.done.succeed(self.received) }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            self.done.fail(error)
            context.close(promise: nil)
        }
    }
}
