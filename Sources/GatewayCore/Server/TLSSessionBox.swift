import GatewayTLS
import NIOCore
import Synchronization

/// Holds a connection's handshake details for the request phases (the TLS layer reports them as a user event,
/// which the async channel does not carry).
final class TLSSessionBox: Sendable {
    private let stored = Mutex<TLSHandshakeDetails?>(nil)
    var details: TLSHandshakeDetails? { self.stored.withLock { $0 } }
    fileprivate func store(_ details: TLSHandshakeDetails) { self.stored.withLock { $0 = details } }
}

/// Copies `TLSHandshakeDetails` into a `TLSSessionBox` as the handshake completes.
final class TLSSessionRecorder: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny
    private let box: TLSSessionBox
    init(box: TLSSessionBox) { self.box = box }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let details = event as? TLSHandshakeDetails { self.box.store(details) }
        context.fireUserInboundEventTriggered(event)
    }
}
