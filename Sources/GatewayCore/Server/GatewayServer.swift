import Foundation
import GatewayAudit
import GatewayConfig
import GatewayReports
import GatewayTLS
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// The gateway's listeners: the TLS proxy listener and the plain-HTTP admin listener.
///
/// `run` binds both, serves until `shutdown()` is called, then drains: it stops accepting, closes idle
/// connections, lets requests and streams in flight finish for up to `shutdown.drain_seconds`, and closes the rest.
public final class GatewayServer: Sendable {
    public struct BoundPorts: Sendable {
        public let listener: Int
        public let admin: Int
    }

    private let runtime: GatewayRuntime
    private let group: any EventLoopGroup
    private let logger: Logger
    private let pools: [String: UpstreamPool]
    private let registry = ConnectionRegistry()
    /// Threads that inspect large bodies (`limits.inspection_threads`), apart from NIO's shared pool.
    private let inspectionPool: NIOThreadPool
    private let shutdownSignal = Mutex<(requested: Bool, waiter: CheckedContinuation<Void, Never>?)>((false, nil))

    public init(runtime: GatewayRuntime, group: any EventLoopGroup, logger: Logger) {
        self.runtime = runtime
        self.group = group
        self.logger = logger
        var pools: [String: UpstreamPool] = [:]
        for provider in runtime.configuration.providers {
            pools[provider.name] = UpstreamPool(provider: provider, tls: runtime.upstreamTLS[provider.name])
        }
        self.pools = pools
        self.inspectionPool = NIOThreadPool(
            numberOfThreads: runtime.configuration.limits.connections.inspectionThreads
                ?? Self.defaultInspectionThreads
        )
    }

    /// Cores − 1, at least one: large-body inspection may never take every core from the event loops.
    static var defaultInspectionThreads: Int { max(1, System.coreCount - 1) }

    /// The connection cap when `limits.max_connections` is not set: the process's file-descriptor limit, less a
    /// reserve for the upstream pools (one descriptor per vendor connection), the listeners, the decision log,
    /// key and quarantine files, and headroom. Past it, accepting would fail with EMFILE for everyone.
    static func defaultConnectionCap(providers: [ProviderSettings]) -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < 1 << 32 else { return 10_000 }
        let reserve = providers.reduce(0) { $0 + $1.pool.maxConnections } + 128
        return max(16, Int(limit.rlim_cur) - reserve)
    }

    /// Serves until `shutdown()`; `onBound` learns the bound ports (useful with port 0).
    public func run(onBound: @Sendable (BoundPorts) -> Void = { _ in }) async throws {
        let configuration = self.runtime.configuration
        let listener = try await self.bindListener(configuration)
        let admin = try await AdminServer.bind(
            host: configuration.admin.address, port: configuration.admin.port, group: self.group,
            metrics: self.runtime.metrics,
            isReady: { [registry, audit = runtime.pipeline.audit] in !registry.isDraining && audit?.isHealthy != false },
            reload: { [runtime] in await runtime.reload() }
        )
        onBound(BoundPorts(listener: listener.localAddress?.port ?? 0, admin: admin.localAddress?.port ?? 0))
        if self.runtime.pipeline.audit == nil {
            self.logger.critical("audit.enabled is false: NO DECISION RECORDS ARE WRITTEN (benchmarking only)")
        }
        self.logger.info(
            "gateway listening",
            metadata: [
                "listen": "\(configuration.listen.address):\(listener.localAddress?.port ?? 0)",
                "admin": "\(configuration.admin.address):\(admin.localAddress?.port ?? 0)",
            ]
        )
        self.inspectionPool.start()
        try await withThrowingDiscardingTaskGroup { group in
            let housekeeping = Task { await self.maintain() }
            let limitsReporter = Task { await self.reportLimitHits() }
            group.addTask {
                await self.waitForShutdown()
                housekeeping.cancel()
                limitsReporter.cancel()
                self.logger.info("draining", metadata: ["connections": "\(self.registry.count)"])
                try? await listener.close().get()
                self.registry.drain()
                self.pools.values.forEach { $0.shutdown() }
                // Whatever is still open when the drain time is up is closed; run() returns once all are gone.
                let drain = TimeAmount.seconds(Int64(configuration.shutdown.drainSeconds))
                self.group.next().scheduleTask(in: drain) { self.registry.closeAll() }
            }
            // Connections serve themselves on their event loops; run() returns once the last one is gone.
            try? await listener.closeFuture.get()
            await self.registry.waitUntilEmpty()
        }
        try? await admin.close()
        try? await self.inspectionPool.shutdownGracefully()
        self.logLimitHits()
        await self.runtime.pipeline.audit?.close()  // the shutdown checkpoint seals the log
        self.logger.info("gateway stopped")
    }

    /// Re-reads the keys file when it changes, so `gatewayctl keys create/revoke` take effect within a second.
    /// The server's housekeeping, until cancelled: the keys file re-read when it changes (every 250 ms), upload
    /// parts held past their hour dropped (every minute), and quarantined bodies past their retention deleted
    /// (every hour).
    private func maintain() async {
        var lastPurge = ContinuousClock.now
        var lastUploadPurge = ContinuousClock.now
        var lastQueueCheck = ContinuousClock.now - .seconds(3600)
        var lastTargetCheck = ContinuousClock.now - .seconds(3600)
        while !Task.isCancelled {
            // Both only when the policy has a `review:` section: without one there is no queue and no target.
            let reviewPolicy = self.runtime.pipeline.configuration.rolePolicy.review
            let reviewConfigured = reviewPolicy != ReviewPolicy()
            if reviewConfigured, ContinuousClock.now - lastTargetCheck > .seconds(300), let audit = self.runtime.pipeline.audit {
                // The targets read the summaries (only lines new since the last run), off the request path.
                lastTargetCheck = .now
                let monitor = GovernanceMonitor(
                    records: SummaryIndex(auditDirectory: audit.log.configuration.directory, parallel: false),
                    store: audit.reviews)
                let policy = self.runtime.pipeline.configuration.rolePolicy
                let metrics = self.runtime.metrics
                let logger = self.logger
                // Its own low-priority queue, one run at a time, one segment at a time: the first run over a large log
                // reads every segment once (a minute or so for a million records), and must not hold NIO's blocking
                // pool, which keeps quarantined bodies, or take more than one core from the event loops.
                let evaluating = self.evaluatingTargets
                if evaluating.start() {
                    Self.governanceQueue.async {
                        defer { evaluating.finish() }
                        do {
                            let report = try monitor.evaluate(policy: policy)
                            metrics.reviewTargets(
                                coverage: report.review.coverage, breaches: GovernanceMonitor.breaches(report))
                        } catch {
                            logger.warning("review targets not evaluated", metadata: ["error": "\(error)"])
                        }
                    }
                }
            }
            if reviewConfigured, ContinuousClock.now - lastQueueCheck > .seconds(15), let audit = self.runtime.pipeline.audit {
                // The queue changes from other processes too (`gatewayctl review`), so it is read, not counted.
                lastQueueCheck = .now
                let maxAge = self.runtime.pipeline.configuration.rolePolicy.review.maxQueueAgeSeconds
                if let queue = try? audit.reviews.queue(now: Date()) {
                    self.runtime.metrics.reviewQueue(QueueSnapshot(queue, maxAgeSeconds: maxAge))
                }
            }
            if ContinuousClock.now - lastPurge > .seconds(3600) {
                // Quarantined bodies past their retention are deleted.
                lastPurge = .now
                let purged = self.runtime.pipeline.audit?.reviews.purgeExpired(now: Date()) ?? 0
                if purged > 0 { self.logger.info("quarantine purged", metadata: ["bodies": "\(purged)"]) }
            }
            if ContinuousClock.now - lastUploadPurge > .seconds(60) {
                // Upload parts past their hour no longer take room from new ones.
                lastUploadPurge = .now
                let expired = self.runtime.heldUploads.purgeExpired()
                if expired > 0 { self.logger.info("expired upload parts dropped", metadata: ["parts": "\(expired)"]) }
            }
            do {
                if try self.runtime.keys.reloadIfChanged() {
                    self.logger.info("gateway keys reloaded", metadata: ["keys": "\(self.runtime.keys.count)"])
                }
            } catch {
                self.logger.error("keys file unreadable; the previous keys stay in force", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: .milliseconds(250))
        }
    }

    /// Where the review targets are evaluated (`GovernanceMonitor`): serial, so runs never overlap, and background
    /// priority.
    static let governanceQueue = DispatchQueue(label: "gateway.review-targets", qos: .background)
    /// Whether an evaluation is under way (a slow one is not queued behind by the next).
    private let evaluatingTargets = BusyFlag()

    /// Logs, once a minute, which protective limits callers ran into (one line, not one per connection).
    private func reportLimitHits() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(60))
            self.logLimitHits()
        }
    }

    private func logLimitHits() {
        let hits = self.runtime.metrics.limits.sinceLastReport()
        guard !hits.isEmpty else { return }
        var metadata: Logger.Metadata = [:]
        for (limit, count) in hits { metadata[limit.rawValue] = "\(count)" }
        self.logger.warning("protective limits hit since the last report", metadata: metadata)
    }

    /// Re-reads the configuration, policy and rules and puts them in force if they are valid (SIGHUP, `POST /reload`
    /// on the admin listener). See `GatewayRuntime.reload()`.
    public func reload() async -> ReloadReport { await self.runtime.reload() }

    /// The rules and policy in force now.
    public var identityInForce: RuleSetIdentity { self.runtime.pipeline.identity }

    /// Begins a graceful shutdown (SIGTERM). Safe to call from any thread, more than once.
    public func shutdown() {
        let waiter = self.shutdownSignal.withLock { signal in
            signal.requested = true
            defer { signal.waiter = nil }
            return signal.waiter
        }
        waiter?.resume()
    }

    private func waitForShutdown() async {
        await withCheckedContinuation { continuation in
            let alreadyRequested = self.shutdownSignal.withLock { signal in
                if signal.requested { return true }
                signal.waiter = continuation
                return false
            }
            if alreadyRequested { continuation.resume() }
        }
    }

    private func bindListener(_ configuration: GatewayConfiguration) async throws -> any Channel {
        let tls = self.runtime.serverTLS
        var limits = NIOHTTPDecoderLimitConfiguration()
        limits.maxHeaderListSize = configuration.limits.maxHeaderBytes
        limits.maxHeaderFieldSize = configuration.limits.maxHeaderBytes
        let decoderLimits = limits
        let connections = configuration.limits.connections
        let settings = ProxySettings(
            live: self.runtime.live, upstreams: self.pools, maxBodyBytes: configuration.limits.maxBodyBytes,
            registry: self.registry, metrics: self.runtime.metrics, offLoopInspectionBytes: 128 * 1024,
            inspectionPool: self.inspectionPool, bodyBudget: BodyBudget(limit: connections.maxBufferedBodyBytes)
        )
        let clockLimits = ConnectionClock.Limits(
            handshake: .seconds(Int64(connections.tlsHandshakeSeconds)),
            head: .seconds(Int64(connections.requestHeadSeconds)),
            body: .seconds(Int64(connections.requestBodySeconds)),
            keepAlive: .seconds(Int64(connections.keepAliveSeconds))
        )
        let cap = connections.maxConnections ?? Self.defaultConnectionCap(providers: configuration.providers)
        let (registry, counters) = (self.registry, self.runtime.metrics.limits)
        self.logger.info(
            "connection limits",
            metadata: [
                "max_connections": "\(cap)", "max_buffered_body_bytes": "\(connections.maxBufferedBodyBytes)",
                "inspection_threads": "\(connections.inspectionThreads ?? Self.defaultInspectionThreads)",
            ]
        )
        return try await ServerBootstrap(group: self.group)
            .serverChannelOption(.backlog, value: 512)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                // Past the cap, a connection is closed as it is accepted: the ones already open are unaffected and
                // the process never runs out of descriptors.
                guard registry.takeSlot(cap: cap) else {
                    counters.hit(.connectionCap)
                    return channel.close()
                }
                channel.closeFuture.whenComplete { _ in registry.releaseSlot() }
                return channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    let timeouts = ConnectionTimeoutHandler(limits: clockLimits, counters: counters)
                    try sync.addHandler(try TLSHandler(serverContext: tls))
                    try sync.addHandler(timeouts)
                    try sync.addHandler(HTTPResponseEncoder())
                    try sync.addHandler(
                        ByteToMessageHandler(
                            HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes, limitConfiguration: decoderLimits)
                        )
                    )
                    try sync.addHandler(ProxyHandler(settings: settings, timeouts: timeouts))
                }
            }
            .bind(host: configuration.listen.address, port: configuration.listen.port).get()
    }
}

/// One job at a time: `start` is true when the job was idle (and marks it busy), `finish` marks it idle.
final class BusyFlag: Sendable {
    private let busy = Mutex(false)

    func start() -> Bool {
        self.busy.withLock { busy in
            defer { busy = true }
            return !busy
        }
    }

    func finish() { self.busy.withLock { $0 = false } }
}
