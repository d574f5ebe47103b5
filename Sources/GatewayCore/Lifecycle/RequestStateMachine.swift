import GatewayAccess
import GatewayAudit
import NIOCore
import NIOHTTP1

/// The lifecycle of the requests on one caller connection, as a value: every event is a mutating method that
/// returns the one action the connection's handler (`ProxyHandler`) performs next. The handler holds no request
/// state of its own; this type does, and so it is tested without a channel (`RequestStateMachineTests`).
///
/// ```
///            head                 end of body            decision durable              vendor's head
///   idle ──────────▶ receiving ──────────────▶ inspecting ─────────▶ recording ────▶ connecting ──────▶ relaying
///    ▲                  │                         │                                    │                 │
///    │                  │ refused (limit, phase)  │ refused (policy)                   │ pool failed     │ end
///    │                  ▼                         ▼                                    ▼                 │
///    └───────────── refusing (record durable, then the error answer) ◀─────── answer ──┴─────────────────┘
/// ```
/// A request ends in `finish`: the connection goes back to `idle` (or to `closed`), the complete phase runs once,
/// and requests pipelined behind it are fed in. The phases that are synchronous (1, 2, 5, 6) run inside the
/// transitions; the waits (inspection off the loop, the decision record, the upstream connection) are actions whose
/// results come back as events tagged with the request's serial number, so a result that arrives after its request
/// has gone is recognised and does nothing (or undoes what it must). An event the state does not allow is a typed
/// error (`IllegalTransition`), never a silent drop.
struct RequestStateMachine {
    enum State {
        case idle
        /// The head passed phases 1 and 2; the body is held up to the request's limit.
        case receiving(InFlight)
        /// Phases 3 and 4 run on the inspection pool.
        case inspecting(InFlight)
        /// The decision record is being made durable; nothing leaves before it is.
        case recording(InFlight)
        /// Waiting for a connection to the vendor (or for an assembled upload to be accepted first).
        case connecting(InFlight)
        /// The vendor's answer goes to the caller as it arrives.
        case relaying(InFlight)
        /// A refusal's record is being made durable; then the error is answered.
        case refusing(InFlight)
        case closed
    }

    private(set) var state = State.idle
    /// Parts of requests pipelined behind the current one (HTTP/1.1 lets a client send before answers arrive).
    private var pipelined = CircularBuffer<HTTPServerRequestPart>()
    /// The connection closes once the current response has ended (a parse error behind it, or a drain).
    private var closeAfterResponse = false
    private var nextSerial: UInt64 = 0
    /// The serial of the request being served; 0 when none is (checked by every late result, so it is kept here
    /// rather than read out of the state).
    private(set) var serving: UInt64 = 0
    /// The caller left while the forwarding record was being written: that request ends when the record does.
    private var leftWhileRecording: InFlight?
    let settings: Settings

    struct Settings: Sendable {
        /// The phases in force; each request takes the ones in force when its head arrives.
        let live: LivePipeline
        let maxBodyBytes: Int
        let bodyBudget: BodyBudget
        let metrics: GatewayMetrics
        /// Whether phases 3 and 4 of this body run off the event loop.
        let inspectsOffLoop: @Sendable (RequestBody) -> Bool
    }

    init(settings: Settings) { self.settings = settings }

    /// The phases for a request starting now.
    var pipeline: RequestPipeline { self.settings.live.current }

    /// The request being served, if any.
    var current: InFlight? { Self.flight(in: self.state) }

    /// The vendor connection whose answer is being relayed (its reading follows the caller's writability).
    var relayingConnection: UpstreamConnection? {
        if case .relaying(let flight) = self.state { flight.connection } else { nil }
    }

    var isClosed: Bool { if case .closed = self.state { true } else { false } }

    // MARK: - Caller's request parts

    /// A part of a request from the caller. A part that arrives while another request is served, or behind held
    /// parts, is held (`.pauseReading`) and handed back by `nextPipelinedPart()` once that request has ended.
    /// - Parameter held: the part is one `nextPipelinedPart()` handed back (it keeps its place in line).
    mutating func requestPart(_ part: HTTPServerRequestPart, held: Bool = false) throws(IllegalTransition) -> Action {
        let accepts: Bool
        switch self.state {
        case .idle, .receiving: accepts = held || self.pipelined.isEmpty
        case .inspecting, .recording, .connecting, .relaying, .refusing: accepts = false
        case .closed: return .none
        }
        guard accepts else {
            self.pipelined.append(part)
            return .pauseReading
        }
        switch part {
        case .head(let head):
            guard case .idle = self.state else { throw IllegalTransition(event: "head", state: self.state) }
            return .beginRequest(head)
        case .body(let chunk):
            return try self.bodyPart(chunk)
        case .end:
            return try self.bodyEnded()
        }
    }

    /// The next held pipelined part, once the connection can take one; nil while it cannot or none is held.
    mutating func nextPipelinedPart() -> HTTPServerRequestPart? {
        switch self.state {
        case .idle, .receiving: self.pipelined.popFirst()
        default: nil
        }
    }

    var hasPipelinedParts: Bool { !self.pipelined.isEmpty }

    /// Phases 1 and 2 on a head (the handler made `context`: id, caller address, TLS session). Accepted, the body is
    /// then held; refused, the refusal is recorded.
    /// - Parameter verifiedKey: the key verified on the connection; authentication updates it.
    mutating func headReceived(
        _ head: HTTPRequestHead, context: RequestContext, verifiedKey: inout VerifiedKey?
    ) throws(IllegalTransition) -> Action {
        guard case .idle = self.state else { throw IllegalTransition(event: "headReceived", state: self.state) }
        self.nextSerial &+= 1
        self.serving = self.nextSerial
        let flight = InFlight(serial: self.nextSerial, head: head, context: context, pipeline: self.pipeline)
        do throws(GatewayError) {
            try RequestHeadChecks.check(head)
            try flight.pipeline.authenticate(head, context: &flight.context, states: &flight.states)
            verifiedKey = flight.context.verifiedKey
            try flight.pipeline.route(head, context: &flight.context, states: &flight.states)
            flight.limit = min(self.settings.maxBodyBytes, flight.context.bodyLimit ?? .max)
            let declared = head.headers.first(name: "content-length").flatMap(Int.init)
            if let declared, declared > flight.limit { throw Self.tooLarge(flight.limit) }
            // The budget is taken as bytes arrive (`bodyPart`), not for the declared length: heads alone, declaring
            // large bodies that never come, must not hold it.
            flight.declaredBytes = declared ?? 0
        } catch {
            return self.refuse(error, flight, quarantining: nil)
        }
        self.state = .receiving(flight)
        // `RequestHeadChecks` let only `100-continue` through. HTTP/1.0 clients do not know 100 Continue (RFC 9110
        // §10.1.1): it is sent only to HTTP/1.1 ones.
        let sendContinue = head.version.minor >= 1 && head.headers.contains(name: "expect")
        return .receiveBody(expectedBytes: flight.declaredBytes, sendContinue: sendContinue)
    }

    /// The handler allocated the body's buffer (pre-sized from the declared length).
    mutating func bodyBufferAllocated(_ buffer: ByteBuffer) {
        guard case .receiving(let flight) = self.state else { return }
        flight.body = buffer
    }

    private mutating func bodyPart(_ chunk: ByteBuffer) throws(IllegalTransition) -> Action {
        guard case .receiving(let flight) = self.state else {
            throw IllegalTransition(event: "bodyPart", state: self.state)
        }
        let total = flight.body.readableBytes + chunk.readableBytes
        guard total <= flight.limit else {
            return self.refuse(Self.tooLarge(flight.limit), flight, quarantining: nil)
        }
        if total > flight.reservedBytes {
            // A body reserves its memory as it arrives; a small one (by its declared length, or so far) is never
            // refused (`BodyBudget.smallBodyBytes`).
            let growth = total - flight.reservedBytes
            guard self.settings.bodyBudget.reserve(growth, bodyTotal: max(flight.declaredBytes, total)) else {
                return self.refuse(self.overBudget(), flight, quarantining: nil)
            }
            flight.reservedBytes += growth
        }
        var chunk = chunk
        flight.body.writeBuffer(&chunk)
        return .none
    }

    /// Phases 3 and 4: inline for most bodies; on the inspection pool (`.inspectOffLoop`) for large ones, ones that
    /// may carry documents, and ones presenting a release token.
    private mutating func bodyEnded() throws(IllegalTransition) -> Action {
        guard case .receiving(let flight) = self.state else {
            throw IllegalTransition(event: "bodyEnded", state: self.state)
        }
        flight.bodyRead = true
        flight.context.requestBytes = flight.body.readableBytes
        let body = RequestBody(
            bytes: flight.body, contentType: flight.head.headers.first(name: "content-type"),
            contentEncoding: flight.head.headers.first(name: "content-encoding"),
            releaseToken: flight.head.headers.first(name: "x-gateway-release")
        )
        if self.settings.inspectsOffLoop(body) {
            self.state = .inspecting(flight)
            return .inspectOffLoop(flight, body)
        }
        let outcome = flight.pipeline.admit(flight.head, body: body, context: &flight.context, states: &flight.states)
        return self.admitted(outcome, flight)
    }

    /// Phases 3 and 4 finished on the inspection pool (or could not run).
    mutating func inspected(
        serial: UInt64, _ result: Result<RequestPipeline.Admission, any Error>
    ) throws(IllegalTransition) -> Action {
        guard self.serving == serial else { return .none }  // the caller left meanwhile
        guard case .inspecting(let flight) = self.state else {
            throw IllegalTransition(event: "inspected", state: self.state)
        }
        switch result {
        case .success(let admission):
            flight.context = admission.context
            flight.states = admission.states
            return self.admitted(admission.outcome, flight)
        case .failure(let error):
            return self.refuse(
                GatewayError(.internalFailure, "Inspection could not run: \(error)"), flight, quarantining: nil
            )
        }
    }

    private mutating func admitted(
        _ outcome: Result<UpstreamRequest, GatewayError>, _ flight: InFlight
    ) -> Action {
        switch outcome {
        case .failure(let error):
            return self.refuse(error, flight, quarantining: flight.body)
        case .success(let upstream):
            flight.upstream = upstream
            self.state = .recording(flight)
            return .recordForwarded(flight)
        }
    }

    // MARK: - The decision record

    /// The forwarding record is durable (or could not be written: nothing may leave).
    mutating func recordDurable(serial: UInt64, _ result: Result<RecordID?, any Error>) throws(IllegalTransition) -> Action {
        if let flight = self.leftWhileRecording, flight.serial == serial {
            // The caller left while the record was written: nothing is sent, and the outcome line says so.
            self.leftWhileRecording = nil
            if case .success(let id?) = result {
                flight.context.auditRecordID = id
                flight.context.recordAwaitsOutcome = true
            }
            return .complete(Completion(flight: flight))
        }
        guard self.serving == serial else { return .none }
        guard case .recording(let flight) = self.state else {
            throw IllegalTransition(event: "recordDurable", state: self.state)
        }
        switch result {
        case .failure(let error):
            return self.refuse(error as? GatewayError ?? AuditTrail.unavailable, flight, quarantining: nil)
        case .success(let id):
            flight.context.auditRecordID = id
            flight.context.recordAwaitsOutcome = id != nil
        }
        switch flight.context.delivery {
        case .answerLocally(let answer):
            flight.context.responseStatus = 200
            flight.context.responseBytes = answer.json.utf8.count
            let parts = LocalResponses.answer(answer, requestID: flight.context.requestID)
            return self.finish(flight, keepAlive: flight.head.isKeepAlive, lastParts: parts)
        case .forwardAfterUpload(let file):
            flight.context.upstreamStartedAt = .now
            self.state = .connecting(flight)
            return .sendUpload(file, flight)
        case .forward:
            flight.context.upstreamStartedAt = .now
            self.state = .connecting(flight)
            return .acquireUpstream(flight)
        }
    }

    /// A refusal's record is durable; `answer` is the error to answer with (503 when the record could not be
    /// written).
    mutating func refusalRecorded(
        serial: UInt64, answer: GatewayError, recordID: RecordID?
    ) throws(IllegalTransition) -> Action {
        guard self.serving == serial else { return .none }
        guard case .refusing(let flight) = self.state else {
            throw IllegalTransition(event: "refusalRecorded", state: self.state)
        }
        flight.context.auditRecordID = recordID
        // A request refused before its body was read closes the connection: the unread body would be taken for
        // the next request.
        return self.answer(answer, flight, keepAlive: flight.bodyRead && flight.head.isKeepAlive)
    }

    // MARK: - The vendor

    /// The assembled upload was sent to the vendor first; `completion` is the upload's completion rewritten with
    /// the vendor's part id, or the error to answer with.
    mutating func uploadSent(
        serial: UInt64, _ result: Result<UpstreamRequest, GatewayError>, forwardedBytes: Int
    ) throws(IllegalTransition) -> Action {
        guard self.serving == serial else { return .none }
        guard case .connecting(let flight) = self.state else {
            throw IllegalTransition(event: "uploadSent", state: self.state)
        }
        switch result {
        case .success(let completion):
            flight.context.forwardedBytes += forwardedBytes
            flight.upstream = completion
            return .acquireUpstream(flight)
        case .failure(let error):
            return self.answer(error, flight, keepAlive: flight.head.isKeepAlive)
        }
    }

    /// The pool granted a connection, or failed. A connection granted after its request has gone goes back unused.
    mutating func upstreamGranted(serial: UInt64, _ grant: UpstreamPool.Grant) throws(IllegalTransition) -> Action {
        guard self.serving == serial else {
            if case .connection(let connection) = grant { return .returnConnection(connection) }
            return .none
        }
        guard case .connecting(let flight) = self.state else {
            throw IllegalTransition(event: "upstreamGranted", state: self.state)
        }
        switch grant {
        case .connection(let connection):
            flight.connection = connection
            self.state = .relaying(flight)
            return .send(flight)
        case .failed(let error):
            return self.answer(error, flight, keepAlive: flight.head.isKeepAlive)
        }
    }

    /// Phase 5 on the vendor's head; the cleaned head goes to the caller.
    mutating func upstreamHead(_ vendorHead: HTTPResponseHead) throws(IllegalTransition) -> Action {
        guard case .relaying(let flight) = self.state else {
            throw IllegalTransition(event: "upstreamHead", state: self.state)
        }
        var head = HeaderHygiene.downstreamHead(
            from: vendorHead, requestID: flight.context.requestID, keepAlive: flight.head.isKeepAlive
        )
        flight.context.upstreamStatus = Int(vendorHead.status.code)
        flight.context.responseStatus = Int(vendorHead.status.code)
        flight.context.streamed = head.headers.first(name: "content-type")?.hasPrefix("text/event-stream") ?? false
        flight.pipeline.responseHead(&head, context: &flight.context, states: &flight.states)
        flight.chunked = !head.headers.contains(name: "content-length")
        return .write(.head(head))
    }

    /// Phase 6 on a part of the vendor's answer: what the filters let through goes to the caller.
    mutating func upstreamBodyPart(_ chunk: ByteBuffer) throws(IllegalTransition) -> Action {
        guard case .relaying(let flight) = self.state else {
            throw IllegalTransition(event: "upstreamBodyPart", state: self.state)
        }
        let out = flight.pipeline.responseBody(chunk, endOfStream: false, context: &flight.context, states: &flight.states)
        flight.context.responseBytes += out?.readableBytes ?? 0
        guard let out, out.readableBytes > 0 else { return .none }
        return .write(.body(.byteBuffer(out)))
    }

    /// The vendor's answer ended: phase 6 once more (what filters held goes out), then the request finishes.
    mutating func upstreamEnd() throws(IllegalTransition) -> Action {
        guard case .relaying(let flight) = self.state else {
            throw IllegalTransition(event: "upstreamEnd", state: self.state)
        }
        var parts: [HTTPServerResponsePart] = [.end(nil)]
        if let rest = flight.pipeline.responseBody(nil, endOfStream: true, context: &flight.context, states: &flight.states),
           rest.readableBytes > 0
        {
            flight.context.responseBytes += rest.readableBytes
            parts.insert(.body(.byteBuffer(rest)), at: 0)
        }
        return self.finish(flight, keepAlive: flight.head.isKeepAlive, lastParts: parts)
    }

    /// The exchange with the vendor failed. Before the answer started, the caller gets the error; after, a chunked
    /// stream is ended cleanly so its parser is not left hanging, and the connection closes either way (a
    /// length-delimited body cannot be completed).
    mutating func upstreamFailed(_ error: GatewayError, responseStarted: Bool) throws(IllegalTransition) -> Action {
        guard case .relaying(let flight) = self.state else {
            throw IllegalTransition(event: "upstreamFailed", state: self.state)
        }
        flight.context.error = error
        guard responseStarted else { return self.answer(error, flight, keepAlive: false) }
        return self.finish(flight, keepAlive: false, lastParts: flight.chunked ? [.end(nil)] : [])
    }

    // MARK: - The connection

    /// The caller's connection closed. The request in flight ends now, unless its forwarding record is being
    /// written: it ends when that record is (`recordDurable`), so its outcome line can say it was never sent.
    mutating func callerClosed() -> Action {
        let previous = self.state
        self.state = .closed
        self.serving = 0
        self.pipelined.removeAll()
        guard let flight = Self.flight(in: previous) else { return .none }
        flight.context.error = flight.context.error ?? GatewayError(.badRequest, "The caller closed the connection")
        let reserved = flight.reservedBytes
        switch previous {
        case .recording:
            flight.reservedBytes = 0
            self.leftWhileRecording = flight
            return .releaseBody(reserved)
        case .relaying(let flight):
            // Stop the vendor's work: closing the connection cancels it.
            return flight.connection.map { .abandon($0, Completion(flight: flight)) } ?? .complete(Completion(flight: flight))
        default:
            return .complete(Completion(flight: flight))
        }
    }

    /// The gateway is draining: an idle connection closes now; a busy one after its current response.
    mutating func drain() -> Action {
        self.closeAfterResponse = true
        guard case .idle = self.state, self.pipelined.isEmpty else { return .none }
        self.state = .closed
        return .close
    }

    /// The caller sent bytes that are not HTTP/1.1. Before or inside a request's head and body, that request is
    /// refused (and the connection closes after the answer); behind a request being served, the connection closes
    /// once its answer has gone.
    mutating func parseFailed(_ error: GatewayError, context: @autoclosure () -> RequestContext) -> Action {
        switch self.state {
        case .idle:
            self.nextSerial &+= 1
            self.serving = self.nextSerial
            let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "")
            let flight = InFlight(serial: self.nextSerial, head: head, context: context(), pipeline: self.pipeline)
            return self.refuse(error, flight, quarantining: nil)
        case .receiving(let flight):
                return self.refuse(error, flight, quarantining: nil)
        case .inspecting, .recording, .connecting, .relaying, .refusing:
            self.closeAfterResponse = true
            return .none
        case .closed:
            return .none
        }
    }

    // MARK: - Ending a request

    /// Records the refusal durably (quarantining a blocked body); `refusalRecorded` then answers it.
    private mutating func refuse(
        _ error: GatewayError, _ flight: InFlight, quarantining body: ByteBuffer?
    ) -> Action {
        flight.context.error = error
        self.state = .refusing(flight)
        return .recordRefusal(error, flight, quarantining: body)
    }

    /// Answers `error` in the vendor's error shape and finishes.
    private mutating func answer(_ error: GatewayError, _ flight: InFlight, keepAlive: Bool) -> Action {
        flight.context.error = error
        let parts = LocalResponses.error(error, context: flight.context, keepAlive: keepAlive)
        flight.context.responseStatus = Int(error.status.code)
        flight.context.responseBytes = LocalResponses.bodyBytes(of: parts)
        return self.finish(flight, keepAlive: keepAlive, lastParts: parts)
    }

    /// Ends the request: the connection is idle again (or closing), and the handler completes the request once,
    /// gives its body budget back and writes its last parts.
    private mutating func finish(_ flight: InFlight, keepAlive: Bool, lastParts: [HTTPServerResponsePart]) -> Action {
        let close = !keepAlive || self.closeAfterResponse
        self.state = close ? .closed : .idle
        self.serving = 0
        if close { self.pipelined.removeAll() }
        return .finish(
            Finish(
                completion: Completion(flight: flight),
                lastParts: lastParts, close: close, resumePipelined: !close && !self.pipelined.isEmpty
            )
        )
    }

    private static func flight(in state: State) -> InFlight? {
        switch state {
        case .receiving(let flight), .inspecting(let flight), .recording(let flight), .connecting(let flight),
            .relaying(let flight), .refusing(let flight):
            flight
        case .idle, .closed: nil
        }
    }

    /// The refusal of a body that would take the gateway past its budget of held bodies; counted.
    private func overBudget() -> GatewayError {
        self.settings.metrics.limits.hit(.bodyBudget)
        return GatewayError(
            .overloaded,
            "The gateway is holding as many request bodies for inspection as it may; nothing was sent. Retry shortly.",
            retryAfterSeconds: 2
        )
    }

    static func tooLarge(_ limit: Int) -> GatewayError {
        GatewayError(.payloadTooLarge, "The request body is larger than this gateway accepts (\(limit) bytes).")
    }
}
