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
/// 2. `route`: the first filter (`ProviderRouter`) picks `context.provider`; later ones refuse what the identity may
///    not use.
/// 3. `inspectBody`: the whole request body (held up to the size limit); may rewrite it or block.
/// 4. `upstreamRequest`: the head about to be sent to the vendor.
/// 5. `responseHead`, 6. `responseBody`: what the vendor answers, as a stream of parts; a filter may rewrite parts
///    or hold bytes back.
/// 7. `complete`: exactly once per request, success or failure.
///
/// `context` holds what every phase and the decision record share (identity, provider, decision). What only one
/// filter needs to remember about a request lives in that filter's own `State` (Pingora's `CTX`): made by
/// `makeState()` when the request starts, handed to each of the filter's hooks, dropped when the request ends.
public protocol GatewayFilter: Sendable {
    associatedtype State: Sendable = Void
    func makeState() -> State

    func authenticate(_ head: HTTPRequestHead, context: inout RequestContext, state: inout State) throws(GatewayError)
    func route(_ head: HTTPRequestHead, context: inout RequestContext, state: inout State) throws(GatewayError)
    func inspectBody(_ body: inout RequestBody, context: inout RequestContext, state: inout State) throws(GatewayError)
    func upstreamRequest(
        _ head: inout HTTPRequestHead, context: inout RequestContext, state: inout State
    ) throws(GatewayError)
    func responseHead(_ head: inout HTTPResponseHead, context: inout RequestContext, state: inout State)
    /// Phase 6, once per part of the vendor's answer and once more at its end.
    ///
    /// `part` holds the bytes about to go to the caller; nil when an earlier filter holds back everything it was
    /// given. A filter may rewrite them, or keep them in its `state` (setting `part` to nil) and release them with a
    /// later part. After the vendor's last part the hook runs once more with `endOfStream` true and `part` nil (or
    /// what an earlier filter released): whatever a filter still holds must go out then. A filter that changes the
    /// answer's length removes `Content-Length` in `responseHead`; the answer is then sent chunked.
    func responseBody(
        _ part: inout ByteBuffer?, endOfStream: Bool, context: inout RequestContext, state: inout State
    )
    func complete(context: RequestContext, state: State)

    // The hooks as the pipeline calls them, with the filter's state taken from the request's states. Implemented
    // once for every filter (below); a filter implements the hooks above instead.
    func authenticate(
        _ head: HTTPRequestHead, context: inout RequestContext, states: inout FilterStates, at index: Int
    ) throws(GatewayError)
    func route(
        _ head: HTTPRequestHead, context: inout RequestContext, states: inout FilterStates, at index: Int
    ) throws(GatewayError)
    func inspectBody(
        _ body: inout RequestBody, context: inout RequestContext, states: inout FilterStates, at index: Int
    ) throws(GatewayError)
    func upstreamRequest(
        _ head: inout HTTPRequestHead, context: inout RequestContext, states: inout FilterStates, at index: Int
    ) throws(GatewayError)
    func responseHead(
        _ head: inout HTTPResponseHead, context: inout RequestContext, states: inout FilterStates, at index: Int
    )
    func responseBody(
        _ part: inout ByteBuffer?, endOfStream: Bool, context: inout RequestContext, states: inout FilterStates,
        at index: Int
    )
    func complete(context: RequestContext, states: FilterStates, at index: Int)
}

extension GatewayFilter where State == Void {
    public func makeState() {}
}

extension GatewayFilter {
    public func authenticate(
        _ head: HTTPRequestHead, context: inout RequestContext, state: inout State
    ) throws(GatewayError) {}
    public func route(_ head: HTTPRequestHead, context: inout RequestContext, state: inout State) throws(GatewayError) {}
    public func inspectBody(
        _ body: inout RequestBody, context: inout RequestContext, state: inout State
    ) throws(GatewayError) {}
    public func upstreamRequest(
        _ head: inout HTTPRequestHead, context: inout RequestContext, state: inout State
    ) throws(GatewayError) {}
    public func responseHead(_ head: inout HTTPResponseHead, context: inout RequestContext, state: inout State) {}
    public func responseBody(
        _ part: inout ByteBuffer?, endOfStream: Bool, context: inout RequestContext, state: inout State
    ) {}
    public func complete(context: RequestContext, state: State) {}

    /// Whether the filter keeps no state of its own (its `State` is `Void`).
    static var isStateless: Bool { State.self == Void.self }
}

/// The hooks as the pipeline calls them: the filter's own state taken from the request's `FilterStates`. Declared
/// in the protocol and implemented only here, so each filter's witness is compiled for its concrete `State` (no
/// generic code or metadata lookup at run time on every hook).
extension GatewayFilter {
    public func authenticate(
        _ head: HTTPRequestHead, context: inout RequestContext, states: inout FilterStates, at index: Int
    ) throws(GatewayError) {
        try states.access(self, at: index) { (state) throws(GatewayError) in
            try self.authenticate(head, context: &context, state: &state)
        }
    }

    public func route(
        _ head: HTTPRequestHead, context: inout RequestContext, states: inout FilterStates, at index: Int
    ) throws(GatewayError) {
        try states.access(self, at: index) { (state) throws(GatewayError) in
            try self.route(head, context: &context, state: &state)
        }
    }

    public func inspectBody(
        _ body: inout RequestBody, context: inout RequestContext, states: inout FilterStates, at index: Int
    ) throws(GatewayError) {
        try states.access(self, at: index) { (state) throws(GatewayError) in
            try self.inspectBody(&body, context: &context, state: &state)
        }
    }

    public func upstreamRequest(
        _ head: inout HTTPRequestHead, context: inout RequestContext, states: inout FilterStates, at index: Int
    ) throws(GatewayError) {
        try states.access(self, at: index) { (state) throws(GatewayError) in
            try self.upstreamRequest(&head, context: &context, state: &state)
        }
    }

    public func responseHead(
        _ head: inout HTTPResponseHead, context: inout RequestContext, states: inout FilterStates, at index: Int
    ) {
        states.visit(self, at: index) { state in self.responseHead(&head, context: &context, state: &state) }
    }

    public func responseBody(
        _ part: inout ByteBuffer?, endOfStream: Bool, context: inout RequestContext, states: inout FilterStates,
        at index: Int
    ) {
        states.visit(self, at: index) { state in
            self.responseBody(&part, endOfStream: endOfStream, context: &context, state: &state)
        }
    }

    public func complete(context: RequestContext, states: FilterStates, at index: Int) {
        self.complete(context: context, state: states.state(of: self, at: index))
    }
}
