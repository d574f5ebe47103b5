import NIOCore
import NIOHTTP1

/// One request to a vendor made by the gateway itself, its whole response collected (for small JSON answers: the
/// part object of an upload held on the gateway). Uses the provider's pool like any forwarded request.
enum VendorExchange {
    struct Response {
        let head: HTTPResponseHead
        let body: ByteBuffer
    }

    static func send(head: HTTPRequestHead, body: ByteBuffer, source: any UpstreamSource, on loop: any EventLoop,
                     firstByteTimeout: TimeAmount, maximumResponseBytes: Int = 1 << 20) -> EventLoopFuture<Response>
    {
        let promise = loop.makePromise(of: Response.self)
        source.acquire(on: loop) { grant in
            switch grant {
            case .connection(let connection):
                let receiver = CollectingReceiver(promise: promise, maximumBytes: maximumResponseBytes)
                connection.handler.send(head: head, body: body, to: receiver, firstByteTimeout: firstByteTimeout)
            case .failed(let error):
                promise.fail(error)
            }
        }
        return promise.futureResult
    }
}

/// Collects one response, up to a size bound (a larger one fails the exchange).
private final class CollectingReceiver: UpstreamResponseReceiver {
    let promise: EventLoopPromise<VendorExchange.Response>
    let maximumBytes: Int
    var head: HTTPResponseHead?
    var body = ByteBuffer()
    var done = false

    init(promise: EventLoopPromise<VendorExchange.Response>, maximumBytes: Int) {
        self.promise = promise
        self.maximumBytes = maximumBytes
    }

    func upstreamResponseHead(_ head: HTTPResponseHead) { self.head = head }

    func upstreamResponseBody(_ chunk: ByteBuffer) {
        var chunk = chunk
        if self.body.readableBytes + chunk.readableBytes <= self.maximumBytes { self.body.writeBuffer(&chunk) }
    }

    func upstreamReadComplete() {}

    func upstreamResponseEnd() {
        guard !self.done, let head = self.head else { return }
        self.done = true
        self.promise.succeed(.init(head: head, body: self.body))
    }

    func upstreamFailed(_ error: GatewayError, responseStarted: Bool) {
        guard !self.done else { return }
        self.done = true
        self.promise.fail(error)
    }
}
