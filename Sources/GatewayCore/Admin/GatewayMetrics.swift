import CoreMetrics
import Prometheus
import GatewayAudit
import Synchronization

/// The gateway's operational metrics, through swift-metrics into a Prometheus registry that `/metrics` renders.
/// The registry is injected rather than bootstrapped globally, so several gateways (tests) never share counters.
public struct GatewayMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    private let factory: PrometheusMetricsFactory
    private let openConnections: Meter
    /// The decision log's group commit: batches, lines, and the time each batch's write and fsync took.
    private let auditBatches: Prometheus.Counter
    private let auditLines: Prometheus.Counter
    private let auditCommitDuration: DurationHistogram
    /// Metric handles by label values: made once per label combination rather than looked up in the registry (and
    /// allocated) on every request. Bounded like the labels themselves (providers × roles × statuses × decisions).
    private let handles = HandleCache()
    /// Protective limits hit (timeouts, connection cap, body budget).
    let limits: LimitCounters
    /// The review queue (`review.escalate`): size, oldest item's age, items past `review.max_age_hours`.
    private let reviewQueueSize: Prometheus.Gauge
    private let reviewQueueOldest: Prometheus.Gauge
    private let reviewQueueOverdue: Prometheus.Gauge
    /// The review targets (`GovernanceMonitor`): coverage over the last 7 days and breaches by kind.
    private let reviewCoverage: Prometheus.Gauge
    private let reviewBreaches: [String: Prometheus.Gauge]

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
            .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5),
            .seconds(10), .seconds(30), .seconds(60), .seconds(300),
        ]
        self.factory = factory
        self.limits = LimitCounters(factory: factory)
        self.openConnections = Meter(label: "gateway_open_connections", dimensions: [], factory: factory)
        self.auditBatches = registry.makeCounter(
            descriptor: MetricNameDescriptor(
                namespace: "gateway", subsystem: "audit", metricName: "batches", unitName: "total",
                helpText: "Batches of decision-log lines written, one fsync each"
            )
        )
        self.auditLines = registry.makeCounter(
            descriptor: MetricNameDescriptor(
                namespace: "gateway", subsystem: "audit", metricName: "lines", unitName: "total",
                helpText: "Decision-log lines made durable (records, outcomes, checkpoints)"
            )
        )
        func gauge(_ name: String, _ unit: String, _ help: String) -> Prometheus.Gauge {
            registry.makeGauge(
                descriptor: MetricNameDescriptor(
                    namespace: "gateway", subsystem: "review", metricName: name, unitName: unit, helpText: help))
        }
        self.reviewQueueSize = gauge("queue", "size", "Requests held for review that no reviewer has decided yet")
        self.reviewQueueOldest = gauge("queue_oldest", "seconds", "Age of the oldest request waiting for review")
        self.reviewQueueOverdue = gauge("queue", "overdue", "Requests waiting for review longer than review.max_age_hours")
        self.reviewCoverage = gauge("coverage", "ratio", "Labelled decisions per forwarded request over the last 7 days")
        var breaches: [String: Prometheus.Gauge] = [:]
        for kind in ["coverage", "missed_rate", "precision", "drift", "queue_age"] {
            breaches[kind] = registry.makeGauge(
                descriptor: MetricNameDescriptor(
                    namespace: "gateway", subsystem: "review", metricName: "target", unitName: "breaches",
                    helpText: "Review targets breached over the last 7 days, by kind (gatewayctl report lists them)"),
                labels: [("kind", kind)])
        }
        self.reviewBreaches = breaches
        // An fsync takes from a tenth of a millisecond (a fast disk) to tens (a loaded one): finer buckets than the
        // request latencies'.
        self.auditCommitDuration = registry.makeDurationHistogram(
            descriptor: MetricNameDescriptor(
                namespace: "gateway", subsystem: "audit", metricName: "commit_duration", unitName: "seconds",
                helpText: "Time to write and fsync one batch of decision-log lines"
            ),
            buckets: [
                .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2.5),
                .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
                .milliseconds(250), .seconds(1),
            ]
        )
    }

    /// Records one durable batch of the decision log (called on the log's I/O queue).
    func auditBatchWritten(lines: Int, duration: Duration) {
        self.auditBatches.increment()
        self.auditLines.increment(by: Int64(lines))
        self.auditCommitDuration.record(duration)
    }

    /// Records one finished request.
    /// The role (not the user or key) labels requests: bounded cardinality, and enough to see who sends what.
    func requestCompleted(provider: String, role: String, status: Int, duration: Duration, decision: String) {
        let factory = self.factory
        let (counter, timer) = self.handles.lookup(RequestLabels(provider: provider, role: role, status: status, decision: decision)) {
            (
                CoreMetrics.Counter(
                    label: "gateway_requests_total",
                    dimensions: [("provider", provider), ("role", role), ("status", String(status)), ("decision", decision)],
                    factory: factory
                ),
                CoreMetrics.Timer(label: "gateway_request_duration_seconds", dimensions: [("provider", provider)], factory: factory)
            )
        }
        counter.increment()
        timer.recordNanoseconds(duration.nanoseconds)
    }

    /// Records an upstream failure by kind (connect, tls, timeout, broken).
    func upstreamError(provider: String, kind: String) {
        Counter(
            label: "gateway_upstream_errors_total", dimensions: [("provider", provider), ("kind", kind)],
            factory: self.factory
        ).increment()
    }

    /// Counts caller header fields not forwarded because the provider's allow-list does not name them.
    func headersDropped(provider: String, count: Int) {
        Counter(label: "gateway_headers_dropped_total", dimensions: [("provider", provider)], factory: self.factory)
            .increment(by: Int64(count))
    }

    func connectionOpened() { self.openConnections.increment() }
    func connectionClosed() { self.openConnections.decrement() }

    /// Sets the review queue gauges.
    func reviewQueue(_ snapshot: QueueSnapshot) {
        self.reviewQueueSize.set(Double(snapshot.size))
        self.reviewQueueOldest.set(snapshot.oldestAgeSeconds)
        self.reviewQueueOverdue.set(Double(snapshot.overdue))
    }

    /// Sets the review target gauges from `GovernanceMonitor`.
    func reviewTargets(coverage: Double, breaches: [String: Int]) {
        self.reviewCoverage.set(coverage)
        for (kind, count) in breaches { self.reviewBreaches[kind]?.set(Double(count)) }
    }

    /// The Prometheus text exposition of every metric.
    public func render() -> String { self.registry.emitToString() }
}

private struct RequestLabels: Hashable {
    let provider: String
    let role: String
    let status: Int
    let decision: String
}

private final class HandleCache: Sendable {
    private let handles = Mutex<[RequestLabels: (CoreMetrics.Counter, CoreMetrics.Timer)]>([:])

    func lookup(
        _ labels: RequestLabels, make: () -> (CoreMetrics.Counter, CoreMetrics.Timer)
    ) -> (CoreMetrics.Counter, CoreMetrics.Timer) {
        self.handles.withLock { handles in
            if let found = handles[labels] { return found }
            let made = make()
            handles[labels] = made
            return made
        }
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = self.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
