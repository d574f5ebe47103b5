import NIOCore
import NIOHTTP1

/// A request body held for inspection, with the headers that describe it.
public struct RequestBody: Sendable {
    public var bytes: ByteBuffer
    public var contentType: String?
    public var contentEncoding: String?
    /// A reviewer's release token presented with `x-gateway-release`.
    public var releaseToken: String?
}

/// One plug-in to the request phases. Every hook has a default that does nothing, so a filter implements only
/// the phases it cares about. Filters run in configuration order; a hook that throws ends the request with that
/// error's status, in the vendor's error shape.
///
/// The phases, in order (Pingora's and Envoy's model):
/// 1. `authenticate`: establish `context.identity` (keys, client certificates).
/// 2. `route`: after the router picked `context.provider`; refuse what the identity may not use.
/// 3. `inspectBody`: the whole request body (held up to the size limit); may rewrite it or block.
/// 4. `upstreamRequest`: the head about to be sent to the vendor.
/// 5. `responseHead`, 6. `responseBody`: what the vendor answers, chunk by chunk, as it streams.
/// 7. `complete`: exactly once per request, success or failure.
public protocol GatewayFilter: Sendable {
    func authenticate(_ head: HTTPRequestHead, context: inout RequestContext) throws(GatewayError)
    func route(_ head: HTTPRequestHead, context: inout RequestContext) throws(GatewayError)
    func inspectBody(_ body: inout RequestBody, context: inout RequestContext) throws(GatewayError)
    func upstreamRequest(_ head: inout HTTPRequestHead, context: inout RequestContext) throws(GatewayError)
    func responseHead(_ head: inout HTTPResponseHead, context: inout RequestContext)
    func responseBody(_ chunk: inout ByteBuffer, context: inout RequestContext)
    func complete(context: RequestContext)
}

extension GatewayFilter {
    public func authenticate(_ head: HTTPRequestHead, context: inout RequestContext) throws(GatewayError) {}
    public func route(_ head: HTTPRequestHead, context: inout RequestContext) throws(GatewayError) {}
    public func inspectBody(_ body: inout RequestBody, context: inout RequestContext) throws(GatewayError) {}
    public func upstreamRequest(_ head: inout HTTPRequestHead, context: inout RequestContext) throws(GatewayError) {}
    public func responseHead(_ head: inout HTTPResponseHead, context: inout RequestContext) {}
    public func responseBody(_ chunk: inout ByteBuffer, context: inout RequestContext) {}
    public func complete(context: RequestContext) {}
}
