import GatewayAudit
import GatewayConfig
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// The request phases, in order, over the configured filters. Built once; shared by every connection.
///
/// The phases run on the caller's event loop and must not block: filters are synchronous. The two waits a request
/// can have — its decision record becoming durable, and inspection of a large body — are futures, so a later phase
/// that must wait (escalation to a human reviewer, say) plugs in the same way.
public struct RequestPipeline: Sendable {
    let configuration: GatewayConfiguration
    let filters: [any GatewayFilter]
    let metrics: GatewayMetrics
    /// Nil only when `audit.enabled` is false (benchmarks).
    let audit: AuditTrail?
    /// Where the decision log's completions come back to, one batch per event loop; at the end of each loop pass
    /// the lines it queued are written together.
    let mailboxes: LoopMailboxes
    /// Failures of the vendor side are logged with their detail (which callers never see).
    let logger = Logger(label: "gateway.requests")

    init(configuration: GatewayConfiguration, filters: [any GatewayFilter], metrics: GatewayMetrics, audit: AuditTrail?) {
        self.configuration = configuration
        self.filters = filters
        self.metrics = metrics
        self.audit = audit
        self.mailboxes = LoopMailboxes { audit?.flushQueuedLines() }
    }

    /// Phase 1: who is calling.
    func authenticate(_ head: HTTPRequestHead, context: inout RequestContext) throws(GatewayError) {
        for filter in self.filters { try filter.authenticate(head, context: &context) }
    }

    /// Phase 2: which provider serves the path (404 when none), then the filters' access checks.
    func route(_ head: HTTPRequestHead, context: inout RequestContext) throws(GatewayError) {
        let path = context.path
        guard let provider = self.configuration.provider(forPath: path, hasHeader: { head.headers.contains(name: $0) }) else {
            throw GatewayError(
                .notFound,
                "No route for \(head.method.rawValue) \(path) on this gateway. Routed paths: "
                    + self.configuration.providers.flatMap(\.pathPrefixes).joined(separator: ", ")
            )
        }
        context.provider = provider
        for filter in self.filters { try filter.route(head, context: &context) }
    }

    /// Phase 3: the whole body, inspected (and maybe rewritten) before anything leaves.
    ///
    /// A body blocked by policy may still go out once, unchanged, when the caller presents a reviewer's release
    /// token (`x-gateway-release`) bound to exactly this body and this sender.
    func inspectBody(_ body: inout RequestBody, context: inout RequestContext) throws(GatewayError) {
        let original = body
        let started = ContinuousClock.now
        defer { context.inspectDuration = ContinuousClock.now - started }
        do {
            for filter in self.filters { try filter.inspectBody(&body, context: &context) }
        } catch let error where error.kind == .blockedByPolicy && context.decision?.isBlocked == true {
            guard let token = original.releaseToken, let audit = self.audit else { throw error }
            context.release = try audit.redeem(
                token: token, body: Array(original.bytes.readableBytesView), identity: context.identity
            )
            body = original
        }
    }

    /// What phases 3 and 4 made of a complete request: the head and body to forward, or the refusal.
    struct Admission: Sendable {
        var context: RequestContext
        var outcome: Result<(head: HTTPRequestHead, body: ByteBuffer), GatewayError>
    }

    /// Phases 3 and 4 together: inspects the whole body, then builds the vendor's head. Pure computation on values,
    /// so a large body can be inspected off the event loop.
    func admit(_ head: HTTPRequestHead, body: RequestBody, context: RequestContext) -> Admission {
        var context = context
        let outcome = self.admit(head, body: body, context: &context)
        return Admission(context: context, outcome: outcome)
    }

    /// `admit` on the caller's context in place (the event loop's path for small bodies: no copy of the context).
    func admit(
        _ head: HTTPRequestHead, body: RequestBody, context: inout RequestContext
    ) -> Result<(head: HTTPRequestHead, body: ByteBuffer), GatewayError> {
        var body = body
        let originalEncoding = body.contentEncoding
        do throws(GatewayError) {
            try self.inspectBody(&body, context: &context)
            context.forwardedBytes = body.bytes.readableBytes
            let upstream = try self.upstreamRequest(head, body: body, originalEncoding: originalEncoding, context: &context)
            return .success((upstream, body.bytes))
        } catch {
            return .failure(error)
        }
    }

    /// Between phase 4 and the vendor: the decision record is made durable before anything is sent. The future
    /// holds the record's id (nil when records are disabled), or fails with `.auditUnavailable` (503): nothing may
    /// then be sent. Only the id travels back, not a copy of the context.
    func recordForwarded(_ context: RequestContext, on loop: any EventLoop) -> EventLoopFuture<RecordID?> {
        guard let audit = self.audit else { return loop.makeSucceededFuture(nil) }
        let recorded = loop.makePromise(of: RecordID?.self)
        let mailbox = self.mailboxes.mailbox(for: loop)
        audit.recordForwarded(context) { result in
            mailbox.post { recorded.completeWith(result.map { Optional($0) }.mapError { $0 as any Error }) }
        }
        mailbox.requestPassEnd()
        return recorded.futureResult
    }

    /// The caller left after its decision record was written but before anything was sent: the outcome line says so.
    func recordUnforwarded(_ context: RequestContext) {
        self.audit?.recordOutcome(context, unforwarded: true)
    }

    /// Before a refusal is answered: its record (and a blocked body's quarantine copy) is made durable first.
    /// The future holds the error to answer with (503 when the record could not be written) and the record's id.
    /// Quarantining writes a file, so it runs on NIO's blocking-I/O thread pool, never on the event loop.
    func recordRefused(
        _ error: GatewayError, context: RequestContext, body: ByteBuffer?, on loop: any EventLoop
    ) -> EventLoopFuture<(GatewayError, RecordID?)> {
        guard let audit = self.audit else { return loop.makeSucceededFuture((error, nil)) }
        let answered = loop.makePromise(of: (GatewayError, RecordID?).self)
        let mailbox = self.mailboxes.mailbox(for: loop)
        let record: @Sendable ([UInt8]?) -> Void = { quarantined in
            audit.recordRefused(error, context: context, body: quarantined) { answer, id in
                mailbox.post { answered.succeed((answer, id)) }
            }
        }
        if let body, audit.quarantines(error, context: context, bodyBytes: body.readableBytes) {
            // The body is copied out and stored only here, off the loop; other refusals never copy it.
            NIOThreadPool.singleton.submit { _ in record(Array(body.readableBytesView)) }
        } else {
            record(nil)
        }
        return answered.futureResult
    }

    /// Phase 4: the head the vendor gets: headers cleaned, vendor key injected, filters last.
    func upstreamRequest(
        _ head: HTTPRequestHead, body: RequestBody, originalEncoding: String?, context: inout RequestContext
    ) throws(GatewayError) -> HTTPRequestHead {
        guard let provider = context.provider else { throw GatewayError(.internalFailure, "request has no route") }
        var droppedFields = 0
        var upstream = HeaderHygiene.upstreamHead(
            from: head, provider: provider, bodyLength: body.bytes.readableBytes,
            dropContentEncoding: originalEncoding != nil && body.contentEncoding == nil,
            clientAddress: context.clientAddress, forwardClientAddress: self.configuration.listen.forwardClientAddress,
            droppedFields: &droppedFields
        )
        if droppedFields > 0 { self.metrics.headersDropped(provider: provider.name, count: droppedFields) }
        for filter in self.filters { try filter.upstreamRequest(&upstream, context: &context) }
        return upstream
    }

    /// Phase 5.
    func responseHead(_ head: inout HTTPResponseHead, context: inout RequestContext) {
        for filter in self.filters { filter.responseHead(&head, context: &context) }
    }

    /// Phase 6, per chunk.
    func responseBody(_ chunk: inout ByteBuffer, context: inout RequestContext) {
        for filter in self.filters { filter.responseBody(&chunk, context: &context) }
    }

    /// Phase 7: exactly once per request.
    func complete(context: RequestContext) {
        let decision: String =
            switch context.decision?.verdict {
            case .none: context.error?.kind == .blockedByPolicy ? "block" : "none"
            case .allow: context.decision?.forwardsUninspected == true ? "uninspected" : "allow"
            case .redact: context.decision?.forwardsUninspected == true ? "uninspected" : "redact"
            case .block: "block"
            }
        for document in context.decision?.documents ?? [] {
            for limit in document.limitsHit { ProtectiveLimit(documentLimit: limit).map(self.metrics.limits.hit) }
        }
        self.metrics.requestCompleted(
            provider: context.provider?.name ?? "none", role: context.identity?.role ?? "none",
            status: context.responseStatus ?? 0,
            duration: ContinuousClock.now - context.startedAt, decision: decision
        )
        if let error = context.error, error.source == .upstream {
            self.metrics.upstreamError(provider: context.provider?.name ?? "none", kind: error.kind.rawValue)
            self.logger.warning(
                "vendor request failed",
                metadata: [
                    "request": "\(context.requestID)", "provider": "\(context.provider?.name ?? "none")",
                    "kind": "\(error.kind.rawValue)", "detail": "\(error.detail ?? error.message)",
                ]
            )
        }
        self.audit?.recordOutcome(context)
        for filter in self.filters { filter.complete(context: context) }
    }
}
