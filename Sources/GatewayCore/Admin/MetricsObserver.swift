import GatewayAudit
import Logging

/// The metrics' view of ended requests: counts and durations by provider, role, status and decision; the limits
/// documents hit; the vendor's failures, logged with the detail callers never see.
struct MetricsObserver: RequestObserver {
    let metrics: GatewayMetrics
    let logger = Logger(label: "gateway.requests")

    func requestEnded(_ context: RequestContext, decision: GatewayAudit.Decision) {
        for document in context.decision?.documents ?? [] {
            for limit in document.limitsHit { ProtectiveLimit(documentLimit: limit).map(self.metrics.limits.hit) }
        }
        self.metrics.requestCompleted(
            provider: context.provider?.name ?? "none", role: context.identity?.role ?? "none",
            status: context.responseStatus ?? 0, duration: ContinuousClock.now - context.startedAt,
            decision: decision.rawValue
        )
        guard let error = context.error, error.source == .upstream else { return }
        self.metrics.upstreamError(provider: context.provider?.name ?? "none", kind: error.kind.rawValue)
        self.logger.warning(
            "vendor request failed",
            metadata: [
                "request": "\(context.requestID)", "provider": "\(context.provider?.name ?? "none")",
                "kind": "\(error.kind.rawValue)", "detail": "\(error.detail ?? error.message)",
            ]
        )
    }
}
