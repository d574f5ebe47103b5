import GatewayConfig
import NIOHTTP1

/// Phase 2's first hook: which provider serves the path (404 when none). Placed first among the filters, so the
/// access and classification hooks of the route phase see `context.provider`.
struct ProviderRouter: GatewayFilter {
    let configuration: GatewayConfiguration

    func route(_ head: HTTPRequestHead, context: inout RequestContext, state: inout Void) throws(GatewayError) {
        let path = context.path
        guard let provider = self.configuration.provider(forPath: path, hasHeader: { head.headers.contains(name: $0) })
        else {
            throw GatewayError(
                .notFound,
                "No route for \(head.method.rawValue) \(path) on this gateway. Routed paths: "
                    + self.configuration.providers.flatMap(\.pathPrefixes).joined(separator: ", ")
            )
        }
        context.provider = provider
    }
}
