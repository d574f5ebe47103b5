import GatewayAudit

/// What watches requests end without taking part in them: the metrics and the decision log's outcome lines.
///
/// Told exactly once per request, after its answer is written or its caller has gone, with the decision computed
/// once for all observers (`Decision(ended:)`). Observers must not block: they run on the caller's event loop.
protocol RequestObserver: Sendable {
    func requestEnded(_ context: RequestContext, decision: GatewayAudit.Decision)
}
