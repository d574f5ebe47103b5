import GatewayCrypto
import NIOCore
import NIOTLS

/// A duplex channel handler that turns a TCP byte stream into a TLS-protected plaintext stream, on the system
/// OpenSSL. Place it first in the pipeline: ciphertext below, plaintext above.
///
/// - Writes made before the handshake completes are held and sent once the peer is verified, so no application
///   byte ever leaves for an unverified peer.
/// - On success it fires `TLSUserEvent.handshakeCompleted(negotiatedProtocol:)` and then `TLSHandshakeDetails`
///   (protocol, suite, SNI, verified peer identity).
/// - `close()` sends close_notify and waits for the peer's for at most `shutdownTimeout`.
/// - A TCP EOF without close_notify is reported with `TLSError.uncleanShutdown` through `errorCaught`: the data may
///   have been truncated, and a proxy must not treat it as a complete response.
/// - OpenSSL objects are freed when the channel goes inactive or the handler is removed, whichever comes first.
///
/// Event-loop bound: use it only from its channel's event loop.
public final class TLSHandler: ChannelDuplexHandler, RemovableChannelHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer
    public typealias OutboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    private let connection: TLSConnection
    private let shutdownTimeout: TimeAmount
    private var state: TLSHandlerState = .idle
    private var pendingWrites: [(data: ByteBuffer, promise: EventLoopPromise<Void>?)] = []
    private var flushRequested = false
    private var closePromise: EventLoopPromise<Void>?
    private var plaintext: ByteBuffer?

    /// The details of the completed handshake; nil before it completes.
    public private(set) var handshakeDetails: TLSHandshakeDetails?

    /// A handler that accepts TLS connections with a server context.
    public init(serverContext: TLSContext, shutdownTimeout: TimeAmount = .seconds(5)) throws(TLSError) {
        precondition(serverContext.role == .server, "TLSHandler(serverContext:) needs a context built with .server")
        self.connection = try TLSConnection(context: serverContext, serverHostname: nil)
        self.shutdownTimeout = shutdownTimeout
    }

    /// A handler that connects to `serverHostname` with a client context, verifying that the server's certificate
    /// names that host (DNS name, or IP address SAN).
    public init(
        clientContext: TLSContext, serverHostname: String, shutdownTimeout: TimeAmount = .seconds(5)
    ) throws(TLSError) {
        precondition(clientContext.role == .client, "TLSHandler(clientContext:) needs a context built with .client")
        self.connection = try TLSConnection(context: clientContext, serverHostname: serverHostname)
        self.shutdownTimeout = shutdownTimeout
    }

    // MARK: - Lifecycle

    public func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { self.beginHandshake(context: context) }
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        self.failPendingWrites(with: TLSError.connectionClosed)
        self.connection.free()
    }

    public func channelActive(context: ChannelHandlerContext) {
        self.beginHandshake(context: context)
        context.fireChannelActive()
    }

    public func channelInactive(context: ChannelHandlerContext) {
        switch self.state {
        case .idle, .closed:
            break
        case .handshaking:
            context.fireErrorCaught(TLSError.eofDuringHandshake)
        case .active:
            context.fireErrorCaught(TLSError.uncleanShutdown)
        case .closing(let timeout):
            // We asked to close and the peer hung up: the close is done, if not politely.
            timeout?.cancel()
            self.closePromise?.succeed()
            self.closePromise = nil
        }
        self.state = .closed
        self.failPendingWrites(with: TLSError.connectionClosed)
        self.connection.free()
        context.fireChannelInactive()
    }

    // MARK: - Inbound

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.connection.receiveFromNetwork(self.unwrapInboundIn(data))
        switch self.state {
        case .idle:
            self.beginHandshake(context: context)
        case .handshaking:
            self.continueHandshake(context: context)
        case .active:
            self.decodeRecords(context: context)
        case .closing:
            self.continueShutdown(context: context)
        case .closed:
            break  // bytes after the end are dropped
        }
    }

    public func channelReadComplete(context: ChannelHandlerContext) {
        self.sendCiphertext(context: context, flush: true)
        context.fireChannelReadComplete()
    }

    // MARK: - Outbound

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if self.state.isClosingOrClosed {
            promise?.fail(TLSError.connectionClosed)
            return
        }
        self.pendingWrites.append((self.unwrapOutboundIn(data), promise))
    }

    public func flush(context: ChannelHandlerContext) {
        self.flushRequested = true
        if case .active = self.state { self.encryptPendingWrites(context: context) }
    }

    public func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        if mode == .input {
            context.close(mode: mode, promise: promise)
            return
        }
        switch self.state {
        case .idle, .handshaking:
            self.state = .closed
            self.failPendingWrites(with: TLSError.connectionClosed)
            context.close(mode: .all, promise: promise)
        case .active:
            if !self.pendingWrites.isEmpty { self.encryptPendingWrites(context: context) }
            self.closePromise = promise
            let timeout = context.eventLoop.assumeIsolated().scheduleTask(in: self.shutdownTimeout) {
                self.shutdownTimedOut(context: context)
            }
            self.state = .closing(timeout: timeout)
            self.continueShutdown(context: context)
        case .closing:
            if let promise {
                if let existing = self.closePromise {
                    existing.futureResult.cascade(to: promise)
                } else {
                    self.closePromise = promise
                }
            }
        case .closed:
            promise?.fail(ChannelError.alreadyClosed)
        }
    }

    // MARK: - Handshake

    private func beginHandshake(context: ChannelHandlerContext) {
        guard case .idle = self.state else { return }
        self.state = .handshaking
        self.continueHandshake(context: context)
    }

    private func continueHandshake(context: ChannelHandlerContext) {
        switch self.connection.handshake() {
        case .incomplete:
            self.sendCiphertext(context: context, flush: true)
        case .complete:
            self.sendCiphertext(context: context, flush: true)
            self.state = .active
            let details = self.connection.handshakeDetails
            self.handshakeDetails = details
            context.fireUserInboundEventTriggered(
                TLSUserEvent.handshakeCompleted(negotiatedProtocol: details.negotiatedProtocol)
            )
            context.fireUserInboundEventTriggered(details)
            if self.flushRequested { self.encryptPendingWrites(context: context) }
            self.decodeRecords(context: context)  // application data may have arrived with the last flight
        case .failed(let error):
            self.sendCiphertext(context: context, flush: true)  // the alert tells the peer why
            self.fail(with: error, context: context)
        }
    }

    // MARK: - Data

    private func decodeRecords(context: ChannelHandlerContext) {
        var peerClosed = false
        var failure: TLSError? = nil
        reading: while true {
            // Sized once for everything received, so decrypting several records never regrows (and copies) it.
            var buffer = self.plaintext ?? context.channel.allocator.buffer(capacity: max(256, self.connection.plaintextBound))
            let result = self.connection.read(into: &buffer)
            self.plaintext = buffer
            switch result {
            case .readSome:
                // Everything received is decrypted: stop without the read that would only say "need more data".
                if self.connection.hasBufferedInput { continue } else { break reading }
            case .needMoreData: break reading
            case .closeNotify:
                peerClosed = true
                break reading
            case .failed(let error):
                failure = error
                break reading
            }
        }
        if let data = self.plaintext, data.readableBytes > 0 {
            self.plaintext = nil
            context.fireChannelRead(self.wrapInboundOut(data))
        }
        self.sendCiphertext(context: context, flush: true)  // e.g. a KeyUpdate answer
        if let failure {
            self.fail(with: failure, context: context)
        } else if peerClosed, case .active = self.state {
            // The peer is done: answer its close_notify and close; there is nothing left to wait for.
            self.state = .closing(timeout: nil)
            self.continueShutdown(context: context)
        }
    }

    /// Encrypts everything written since the last flush and passes the ciphertext on in one write.
    ///
    /// Small writes are coalesced into one TLS record (up to 16 KiB of plaintext): an HTTP head, its body and the
    /// chunked terminator go out as one record rather than three, which saves a record's AEAD set-up and framing
    /// each and lets the peer decrypt one record instead of three. The promises of a coalesced group complete
    /// together once its ciphertext is written.
    private func encryptPendingWrites(context: ChannelHandlerContext) {
        let writes = self.pendingWrites
        self.pendingWrites.removeAll(keepingCapacity: true)
        self.flushRequested = false
        var index = 0
        while index < writes.count {
            var end = index + 1
            var size = writes[index].data.readableBytes
            while end < writes.count, size + writes[end].data.readableBytes <= Self.coalescedRecordBytes {
                size += writes[end].data.readableBytes
                end += 1
            }
            let group = writes[index..<end]
            var plaintext: ByteBuffer
            if group.count == 1 {
                plaintext = writes[index].data
            } else {
                plaintext = context.channel.allocator.buffer(capacity: size)
                for write in group { plaintext.writeImmutableBuffer(write.data) }
            }
            if case .failed(let error) = self.connection.write(plaintext) {
                for remaining in writes[index...] { remaining.promise?.fail(error) }
                self.fail(with: error, context: context)
                return
            }
            let promises = group.compactMap(\.promise)
            if let ciphertext = self.connection.takeCiphertext(allocator: context.channel.allocator) {
                let written: EventLoopPromise<Void>? =
                    switch promises.count {
                    case 0: nil
                    case 1: promises[0]
                    default: context.eventLoop.makePromise()
                    }
                if promises.count > 1, let written {
                    for promise in promises { written.futureResult.cascade(to: promise) }
                }
                context.write(self.wrapOutboundOut(ciphertext), promise: written)
            } else {
                promises.forEach { $0.succeed() }
            }
            index = end
        }
        context.flush()
    }

    /// Plaintext up to this size from consecutive writes goes into one record (TLS's maximum record size).
    static let coalescedRecordBytes = 16_384

    // MARK: - Closing

    private func continueShutdown(context: ChannelHandlerContext) {
        // Drain any records still in flight so the peer's close_notify is seen.
        if !self.connection.receivedCloseNotify {
            var scratch = context.channel.allocator.buffer(capacity: 0)
            while case .readSome = self.connection.read(into: &scratch) { scratch.clear() }
        }
        let result = self.connection.shutdown()
        self.sendCiphertext(context: context, flush: true)
        switch result {
        case .incomplete:
            break
        case .complete:
            self.finishClose(context: context, error: nil)
        case .failed(let error):
            self.finishClose(context: context, error: error)
        }
    }

    private func shutdownTimedOut(context: ChannelHandlerContext) {
        guard case .closing = self.state else { return }
        self.finishClose(context: context, error: TLSError.closeNotifyTimedOut)
    }

    private func finishClose(context: ChannelHandlerContext, error: TLSError?) {
        if case .closing(let timeout) = self.state { timeout?.cancel() }
        self.state = .closed
        let promise = self.closePromise
        self.closePromise = nil
        if error == nil { context.fireUserInboundEventTriggered(TLSUserEvent.shutdownCompleted) }
        context.close(mode: .all, promise: nil)
        if let error { promise?.fail(error) } else { promise?.succeed() }
    }

    // MARK: - Helpers

    private func sendCiphertext(context: ChannelHandlerContext, flush: Bool) {
        guard let ciphertext = self.connection.takeCiphertext(allocator: context.channel.allocator) else { return }
        context.write(self.wrapOutboundOut(ciphertext), promise: nil)
        if flush { context.flush() }
    }

    private func fail(with error: TLSError, context: ChannelHandlerContext) {
        if case .closing(let timeout) = self.state { timeout?.cancel() }
        self.state = .closed
        self.failPendingWrites(with: error)
        self.closePromise?.fail(error)
        self.closePromise = nil
        context.fireErrorCaught(error)
        context.close(mode: .all, promise: nil)
    }

    private func failPendingWrites(with error: Error) {
        let writes = self.pendingWrites
        self.pendingWrites.removeAll()
        for write in writes { write.promise?.fail(error) }
    }
}

@available(*, unavailable)
extension TLSHandler: Sendable {}
