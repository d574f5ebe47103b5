import GatewayAudit
import GatewayConfig
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// The request phases, in order, over the configured filters. Built once; shared by every connection. It runs
/// phases; `RequestStateMachine` decides which runs when.
///
/// The phases run on the caller's event loop and must not block: filters are synchronous. The two waits a request
/// can have (its decision record becoming durable, and inspection of a large body) are futures, so a later phase
/// that must wait (escalation to a human reviewer, say) plugs in the same way.
public final class RequestPipeline: Sendable {
    let configuration: GatewayConfiguration
    /// The filters in order; the first is the router (`ProviderRouter`).
    let filters: [any GatewayFilter]
    /// Whether any filter keeps state of its own (else a request's `FilterStates` costs nothing).
    private let anyStatefulFilter: Bool
    let metrics: GatewayMetrics
    /// Nil only when `audit.enabled` is false (benchmarks).
    let audit: AuditTrail?
    /// Told once per request when it has ended: the metrics, then the decision log's outcome line.
    let observers: [any RequestObserver]
    /// The rules and policy these phases apply; set on every request's context for its records.
    let identity: RuleSetIdentity
    /// Where the decision log's completions come back to, one batch per event loop; at the end of each loop pass
    /// the lines it queued are written together.
    let mailboxes: LoopMailboxes

    /// - Parameter filters: the filters after the router, which is always first.
    /// - Parameter mailboxes: shared with the pipeline this one replaces on a reload (made here when nil).
    init(
        configuration: GatewayConfiguration, filters: [any GatewayFilter], metrics: GatewayMetrics, audit: AuditTrail?,
        identity: RuleSetIdentity = RuleSetIdentity(ruleSetHash: "", policyHash: ""), mailboxes: LoopMailboxes? = nil
    ) {
        self.configuration = configuration
        self.identity = identity
        self.filters = [ProviderRouter(configuration: configuration)] + filters
        self.anyStatefulFilter = self.filters.contains { !Self.isStateless($0) }
        self.metrics = metrics
        self.audit = audit
        self.observers = [MetricsObserver(metrics: metrics)] + (audit.map { [$0] } ?? [])
        self.mailboxes = mailboxes ?? LoopMailboxes { audit?.flushQueuedLines() }
    }

    private static func isStateless<Filter: GatewayFilter>(_ filter: Filter) -> Bool { Filter.isStateless }

    /// The filters' own states for a new request.
    func makeStates() -> FilterStates { FilterStates(self.filters, anyStateful: self.anyStatefulFilter) }

    /// Phase 1: who is calling.
    func authenticate(
        _ head: HTTPRequestHead, context: inout RequestContext, states: inout FilterStates
    ) throws(GatewayError) {
        for (index, filter) in self.filters.enumerated() {
            try filter.authenticate(head, context: &context, states: &states, at: index)
        }
    }

    /// Phase 2: the router picks the provider, then the filters' access checks.
    func route(_ head: HTTPRequestHead, context: inout RequestContext, states: inout FilterStates) throws(GatewayError) {
        for (index, filter) in self.filters.enumerated() {
            try filter.route(head, context: &context, states: &states, at: index)
        }
    }

    /// Phase 3: the whole body, inspected (and maybe rewritten) before anything leaves.
    ///
    /// A body blocked by policy may still go out once, unchanged, when the caller presents a reviewer's release
    /// token (`x-gateway-release`) bound to exactly this body and this sender.
    func inspectBody(
        _ body: inout RequestBody, context: inout RequestContext, states: inout FilterStates
    ) throws(GatewayError) {
        let original = body
        let started = ContinuousClock.now
        defer { context.inspectDuration = ContinuousClock.now - started }
        do {
            for (index, filter) in self.filters.enumerated() {
                try filter.inspectBody(&body, context: &context, states: &states, at: index)
            }
        } catch let error
            where (error.kind == .blockedByPolicy && context.decision?.isBlocked == true) || error.kind == .heldForReview
        {
            guard let token = original.releaseToken, let audit = self.audit else { throw error }
            context.release = try audit.redeem(
                token: token, body: Array(original.bytes.readableBytesView), identity: context.identity
            )
            body = original
            // A held request the policy would have redacted goes out redacted: the reviewer released the hold, not
            // the values the policy removes anyway.
            if error.kind == .heldForReview, case .redact(let rewritten, let encodingRemoved)? = context.decision?.verdict {
                body.bytes = ByteBuffer(bytes: rewritten)
                if encodingRemoved { body.contentEncoding = nil }
            }
            context.escalation = nil
        }
    }

    /// What phases 3 and 4 made of a complete request: the head and body to forward, or the refusal.
    struct Admission: Sendable {
        var context: RequestContext
        var states: FilterStates
        var outcome: Result<UpstreamRequest, GatewayError>
    }

    /// Phases 3 and 4 together: inspects the whole body, then builds the vendor's head. Pure computation on values,
    /// so a large body can be inspected off the event loop.
    func admit(_ head: HTTPRequestHead, body: RequestBody, context: RequestContext, states: FilterStates) -> Admission {
        var context = context
        var states = states
        let outcome = self.admit(head, body: body, context: &context, states: &states)
        return Admission(context: context, states: states, outcome: outcome)
    }

    /// `admit` on the caller's context in place (the event loop's path for small bodies: no copy of the context).
    func admit(
        _ head: HTTPRequestHead, body: RequestBody, context: inout RequestContext, states: inout FilterStates
    ) -> Result<UpstreamRequest, GatewayError> {
        var body = body
        let originalEncoding = body.contentEncoding
        do throws(GatewayError) {
            try self.inspectBody(&body, context: &context, states: &states)
            context.forwardedBytes = body.bytes.readableBytes
            let upstream = try self.upstreamRequest(
                head, body: body, originalEncoding: originalEncoding, context: &context, states: &states
            )
            return .success(UpstreamRequest(head: upstream, body: body.bytes))
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
        _ head: HTTPRequestHead, body: RequestBody, originalEncoding: String?, context: inout RequestContext,
        states: inout FilterStates
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
        for (index, filter) in self.filters.enumerated() {
            try filter.upstreamRequest(&upstream, context: &context, states: &states, at: index)
        }
        return upstream
    }

    /// Phase 5.
    func responseHead(_ head: inout HTTPResponseHead, context: inout RequestContext, states: inout FilterStates) {
        for (index, filter) in self.filters.enumerated() {
            filter.responseHead(&head, context: &context, states: &states, at: index)
        }
    }

    /// Phase 6, per part of the answer and once more at its end (`endOfStream`): what goes to the caller now.
    func responseBody(
        _ part: ByteBuffer?, endOfStream: Bool, context: inout RequestContext, states: inout FilterStates
    ) -> ByteBuffer? {
        var part = part
        for (index, filter) in self.filters.enumerated() {
            filter.responseBody(&part, endOfStream: endOfStream, context: &context, states: &states, at: index)
        }
        return part
    }

    /// Phase 7: exactly once per request. The decision is computed once and told to every observer.
    func complete(context: RequestContext, states: FilterStates) {
        let decision = GatewayAudit.Decision(ended: context)
        for observer in self.observers { observer.requestEnded(context, decision: decision) }
        for (index, filter) in self.filters.enumerated() { filter.complete(context: context, states: states, at: index) }
    }
}

/// The head and body phase 4 made for the vendor.
struct UpstreamRequest: Sendable {
    var head: HTTPRequestHead
    var body: ByteBuffer
}
