import GatewayCrypto
import GatewayTLS
import Logging
import NIOCore
import NIOHTTP1
import Synchronization

/// One caller's connection: HTTP/1.1 requests served one after another through the request phases.
///
/// The task reads a request head, runs authenticate and route, holds the body up to the limit, inspects it,
/// forwards it, and streams the vendor's answer back part by part (each part is flushed, so server-sent events
/// reach the caller as they arrive). A request refused before its body was read closes the connection, since the
/// unread body would otherwise be taken for the next request.
struct ProxyConnection {
    typealias Inbound = NIOAsyncChannelInboundStream<HTTPServerRequestPart>.AsyncIterator
    typealias Outbound = NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>

    let channel: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>
    let tls: TLSSessionBox
    let pools: [String: UpstreamPool]
    let pipeline: RequestPipeline
    let maxBodyBytes: Int
    let registry: ConnectionRegistry
    let logger: Logger

    /// What the connection does after a request.
    private enum Continuation {
        case keepAlive
        case close
    }

    func run() async {
        let clientAddress = self.channel.channel.remoteAddress?.ipAddress
        let watcher = ExchangeWatcher()
        self.channel.channel.closeFuture.whenComplete { _ in watcher.connectionClosed() }
        do {
            try await self.channel.executeThenClose { inbound, outbound in
                var parts = inbound.makeAsyncIterator()
                while true {
                    let part: HTTPServerRequestPart?
                    do {
                        part = try await parts.next()
                    } catch {
                        await self.answerMalformed(error, outbound: outbound, clientAddress: clientAddress)
                        return
                    }
                    guard case .head(let head) = part else { return }  // EOF between requests, or stray parts
                    self.registry.requestStarted(on: self.channel.channel)
                    var context = RequestContext(
                        requestID: Self.newRequestID(), method: head.method.rawValue, target: head.uri,
                        clientAddress: clientAddress, tls: self.tls.details
                    )
                    let next = await self.serve(
                        head, parts: &parts, outbound: outbound, context: &context, watcher: watcher
                    )
                    self.pipeline.complete(context: context)
                    let draining = self.registry.requestFinished(on: self.channel.channel)
                    if case .close = next { return }
                    if !head.isKeepAlive || draining { return }
                }
            }
        } catch {
            self.logger.debug("connection ended", metadata: ["error": "\(error)"])
        }
    }

    // MARK: - One request

    private func serve(
        _ head: HTTPRequestHead, parts: inout Inbound, outbound: Outbound, context: inout RequestContext,
        watcher: ExchangeWatcher
    ) async -> Continuation {
        var bodyRead = false
        var received: ByteBuffer? = nil  // the body as the caller sent it: a blocked one goes to quarantine
        do {
            try await self.pipeline.authenticate(head, context: &context)
            try await self.pipeline.route(head, context: &context)
            if head.headers["expect"].contains(where: { $0.lowercased() == "100-continue" }) {
                try await outbound.write(.head(HTTPResponseHead(version: .http1_1, status: .continue)))
            }
            var body = try await self.readBody(head, parts: &parts, context: &context)
            bodyRead = true
            received = body.bytes
            body.releaseToken = head.headers.first(name: "x-gateway-release")
            let originalEncoding = body.contentEncoding
            try await self.pipeline.inspectBody(&body, context: &context)
            context.forwardedBytes = body.bytes.readableBytes
            let upstreamHead = try self.pipeline.upstreamRequest(
                head, body: body, originalEncoding: originalEncoding, context: &context
            )
            try await self.pipeline.recordForwarded(context: &context)
            return await self.forward(
                upstreamHead, body: body.bytes, request: head, outbound: outbound, context: &context,
                watcher: watcher
            )
        } catch let error as GatewayError {
            let answer = await self.pipeline.recordRefused(error, context: &context, body: received)
            context.error = answer
            let keepAlive = bodyRead && head.isKeepAlive
            await self.respond(answer, outbound: outbound, context: &context, keepAlive: keepAlive)
            return keepAlive ? .keepAlive : .close
        } catch {
            // Reading the body failed (bad chunking, the caller left): answer if we can, then close.
            let failure = GatewayError(.badRequest, "The request could not be read: \(error)")
            context.error = await self.pipeline.recordRefused(failure, context: &context, body: nil)
            await self.respond(context.error!, outbound: outbound, context: &context, keepAlive: false)
            return .close
        }
    }

    /// Holds the body in memory up to the limit, so it can be inspected whole.
    private func readBody(
        _ head: HTTPRequestHead, parts: inout Inbound, context: inout RequestContext
    ) async throws -> RequestBody {
        let limit = min(self.maxBodyBytes, context.bodyLimit ?? .max)
        let declared = head.headers.first(name: "content-length").flatMap(Int.init)
        if let declared, declared > limit {
            throw GatewayError(.payloadTooLarge, Self.tooLargeMessage(limit))
        }
        var buffer = self.channel.channel.allocator.buffer(capacity: max(0, declared ?? 0))
        while let part = try await parts.next() {
            switch part {
            case .body(var chunk):
                guard buffer.readableBytes + chunk.readableBytes <= limit else {
                    throw GatewayError(.payloadTooLarge, Self.tooLargeMessage(limit))
                }
                buffer.writeBuffer(&chunk)
            case .end:
                context.requestBytes = buffer.readableBytes
                return RequestBody(
                    bytes: buffer, contentType: head.headers.first(name: "content-type"),
                    contentEncoding: head.headers.first(name: "content-encoding")
                )
            case .head:
                throw GatewayError(.badRequest, "A request head arrived inside a body")
            }
        }
        throw GatewayError(.badRequest, "The connection closed before the request body was complete")
    }

    private static func tooLargeMessage(_ limit: Int) -> String {
        "The request body is larger than this gateway accepts (\(limit) bytes)."
    }

    // MARK: - Forwarding

    private func forward(
        _ upstreamHead: HTTPRequestHead, body: ByteBuffer, request: HTTPRequestHead, outbound: Outbound,
        context: inout RequestContext, watcher: ExchangeWatcher
    ) async -> Continuation {
        guard let provider = context.provider, let pool = self.pools[provider.name] else {
            context.error = GatewayError(.internalFailure, "no upstream pool")
            await self.respond(context.error!, outbound: outbound, context: &context, keepAlive: false)
            return .close
        }
        let exchange = UpstreamExchange(head: upstreamHead, body: body)
        guard watcher.begin(exchange) else { return .close }  // the caller already left
        defer { watcher.end() }
        context.upstreamStartedAt = .now
        do {
            try await pool.send(exchange)
        } catch {
            context.error = error
            await self.respond(error, outbound: outbound, context: &context, keepAlive: request.isKeepAlive)
            return request.isKeepAlive ? .keepAlive : .close
        }
        var headSent = false
        var chunked = false
        do {
            for try await batch in exchange.response {
                var parts: [HTTPServerResponsePart] = []
                parts.reserveCapacity(batch.count)
                var ended = false
                for part in batch {
                    switch part {
                    case .head(let vendorHead):
                        var head = HeaderHygiene.downstreamHead(
                            from: vendorHead, requestID: context.requestID, keepAlive: request.isKeepAlive
                        )
                        context.upstreamStatus = Int(vendorHead.status.code)
                        context.responseStatus = Int(vendorHead.status.code)
                        context.streamed =
                            head.headers.first(name: "content-type")?.hasPrefix("text/event-stream") ?? false
                        chunked = !head.headers.contains(name: "content-length")
                        self.pipeline.responseHead(&head, context: &context)
                        parts.append(.head(head))
                    case .body(var chunk):
                        self.pipeline.responseBody(&chunk, context: &context)
                        context.responseBytes += chunk.readableBytes
                        parts.append(.body(.byteBuffer(chunk)))
                    case .end:
                        parts.append(.end(nil))
                        ended = true
                    }
                }
                try await outbound.write(contentsOf: parts)
                headSent = headSent || context.responseStatus != nil
                if ended { return .keepAlive }
            }
            // The response stream finished without an end: the exchange was cancelled (the caller left).
            return .close
        } catch let error as GatewayError where !headSent {
            context.error = error
            await self.respond(error, outbound: outbound, context: &context, keepAlive: false)
            return .close
        } catch let error as GatewayError {
            // The vendor broke mid-stream: end a chunked stream cleanly so the caller's parser is not left hanging;
            // a length-delimited body cannot be completed, so the connection closes.
            context.error = error
            if chunked { try? await outbound.write(.end(nil)) }
            return .close
        } catch {
            // Writing to the caller failed: it left. Stop the vendor's work.
            exchange.cancel()
            context.error = GatewayError(.badRequest, "The caller closed the connection")
            return .close
        }
    }

    // MARK: - Local answers

    private func respond(
        _ error: GatewayError, outbound: Outbound, context: inout RequestContext, keepAlive: Bool
    ) async {
        let body = VendorErrorBody.render(error, shape: context.apiShape)
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Content-Length", value: String(body.utf8.count))
        headers.add(name: "x-request-id", value: context.requestID)
        headers.add(name: "x-gateway-error", value: error.kind.rawValue)
        if let seconds = error.retryAfterSeconds { headers.add(name: "Retry-After", value: String(seconds)) }
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        context.responseStatus = Int(error.status.code)
        context.responseBytes = body.utf8.count
        do {
            try await outbound.write(contentsOf: [
                .head(HTTPResponseHead(version: .http1_1, status: error.status, headers: headers)),
                .body(.byteBuffer(ByteBuffer(string: body))), .end(nil),
            ])
        } catch {
            self.logger.debug("could not send error response", metadata: ["error": "\(error)"])
        }
    }

    /// A request the HTTP parser refused: 431 for oversized heads, 400 otherwise. The connection then closes.
    private func answerMalformed(_ error: any Error, outbound: Outbound, clientAddress: String?) async {
        guard let parserError = error as? HTTPParserError else { return }  // TLS failures and resets: nothing to say
        let failure =
            parserError == .headerOverflow
            ? GatewayError(.headersTooLarge, "The request headers are larger than this gateway accepts.")
            : GatewayError(.badRequest, "The request is not valid HTTP/1.1 (\(parserError)); it was not forwarded.")
        var context = RequestContext(
            requestID: Self.newRequestID(), method: "", target: "", clientAddress: clientAddress, tls: self.tls.details
        )
        context.error = await self.pipeline.recordRefused(failure, context: &context, body: nil)
        await self.respond(context.error!, outbound: outbound, context: &context, keepAlive: false)
        self.pipeline.complete(context: context)
    }

    static func newRequestID() -> String { "req_" + Crypto.hex(Crypto.randomBytes(count: 12)) }
}

/// Ties the in-flight exchange to the caller's connection, so a caller that goes away cancels the vendor request
/// even while the gateway is only waiting for the vendor's first byte.
final class ExchangeWatcher: Sendable {
    private struct State {
        var current: UpstreamExchange?
        var closed = false
    }
    private let state = Mutex(State())

    /// Returns false when the connection is already closed.
    func begin(_ exchange: UpstreamExchange) -> Bool {
        self.state.withLock { state in
            guard !state.closed else { return false }
            state.current = exchange
            return true
        }
    }

    func end() { self.state.withLock { $0.current = nil } }

    func connectionClosed() {
        let exchange = self.state.withLock { state in
            state.closed = true
            return state.current
        }
        exchange?.cancel()
    }
}
