import NIOHTTP1
@testable import GatewayCore

/// A filter's hooks called alone, each with a fresh state of the filter's own (as the first hook of a request sees it).
extension GatewayFilter {
    func authenticate(_ head: HTTPRequestHead, context: inout RequestContext) throws(GatewayError) {
        var state = self.makeState()
        try self.authenticate(head, context: &context, state: &state)
    }

    func route(_ head: HTTPRequestHead, context: inout RequestContext) throws(GatewayError) {
        var state = self.makeState()
        try self.route(head, context: &context, state: &state)
    }

    func inspectBody(_ body: inout RequestBody, context: inout RequestContext) throws(GatewayError) {
        var state = self.makeState()
        try self.inspectBody(&body, context: &context, state: &state)
    }
}

extension GatewayFilter {
    func upstreamRequest(_ head: inout HTTPRequestHead, context: inout RequestContext) throws(GatewayError) {
        var state = self.makeState()
        try self.upstreamRequest(&head, context: &context, state: &state)
    }
}
