import GatewayAccess
import GatewayAudit
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing
@testable import GatewayCore

/// `RequestStateMachine` alone: every transition, the actions it returns, and the events each state refuses.
/// No channel: the events are fed by hand, as `ProxyHandler` would feed them.
@Suite("Request state machine")
struct RequestStateMachineTests {
    typealias Machine = RequestStateMachine

    /// Refuses bodies that contain "refuse"; lets everything else through.
    struct RefuseMarked: GatewayFilter {
        func inspectBody(_ body: inout RequestBody, context: inout RequestContext, state: inout Void) throws(GatewayError) {
            if String(buffer: body.bytes).contains("refuse") { throw GatewayError(.forbidden, "refused") }
        }
    }

    static func machine(offLoop: Bool = false, maxBodyBytes: Int = 1024) async throws -> Machine {
        let gateway = try await EmbeddedGateway()
        let pipeline = RequestPipeline(
            configuration: gateway.runtime.configuration, filters: [RefuseMarked()], metrics: GatewayMetrics(),
            audit: nil
        )
        return Machine(settings: .init(
            live: LivePipeline(pipeline), maxBodyBytes: maxBodyBytes, bodyBudget: BodyBudget(limit: 1 << 20),
            metrics: GatewayMetrics(), inspectsOffLoop: { _ in offLoop }
        ))
    }

    static func head(_ path: String = "/v1/chat/completions", length: Int? = nil, keepAlive: Bool = true) -> HTTPRequestHead {
        var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: path)
        head.headers.add(name: "Host", value: "gw")
        if let length { head.headers.add(name: "Content-Length", value: String(length)) }
        if !keepAlive { head.headers.add(name: "Connection", value: "close") }
        return head
    }

    static func context(_ head: HTTPRequestHead) -> RequestContext {
        RequestContext(requestID: "req_test", method: head.method.rawValue, target: head.uri, clientAddress: nil, tls: nil)
    }

    /// Feeds a head and a body and returns the action the end of the body produced (or the head's refusal).
    static func request(_ machine: inout Machine, body: String, path: String = "/v1/chat/completions") throws -> Machine.Action {
        let head = Self.head(path, length: body.utf8.count)
        guard case .beginRequest = try machine.requestPart(.head(head)) else { throw Failure("no beginRequest") }
        let accepted = try machine.headReceived(head, context: Self.context(head))
        guard case .receiveBody = accepted else { return accepted }
        _ = try machine.requestPart(.body(ByteBuffer(string: body)))
        return try machine.requestPart(.end(nil))
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    static func serial(of action: Machine.Action) -> UInt64? {
        switch action {
        case .recordForwarded(let flight), .recordRefusal(_, let flight, _), .acquireUpstream(let flight):
            flight.serial
        case .inspectOffLoop(let flight, _): flight.serial
        default: nil
        }
    }

    static func connection(_ loop: EmbeddedEventLoop) throws -> UpstreamConnection {
        let channel = EmbeddedChannel(loop: loop)
        let handler = UpstreamClientHandler(providerName: "test", idleTimeout: .seconds(60))
        try channel.pipeline.syncOperations.addHandler(handler)
        return UpstreamConnection(channel: channel, handler: handler)
    }

    // MARK: - The forwarding path

    @Test("idle → receiving → recording → connecting → relaying → idle, with the action of each step")
    func forwardingPath() async throws {
        var machine = try await Self.machine()
        let action = try Self.request(&machine, body: "{}")
        guard case .recordForwarded(let flight) = action else { Issue.record("\(action)"); return }
        let serial = flight.serial
        #expect(flight.context.provider?.name == "openai", "the router (a filter) chose the provider")
        guard case .acquireUpstream(let same) = try machine.recordDurable(serial: serial, .success(nil)), same === flight
        else {
            Issue.record("no acquireUpstream"); return
        }
        let loop = EmbeddedEventLoop()
        let connection = try Self.connection(loop)
        guard case .send(let sending) = try machine.upstreamGranted(serial: serial, .connection(connection)),
              let upstream = sending.upstream, sending.connection === connection
        else {
            Issue.record("no send"); return
        }
        #expect(String(buffer: upstream.body) == "{}")
        #expect(upstream.head.headers.first(name: "authorization") == VendorKeys.openAI)
        guard case .write(.head(let head)) = try machine.upstreamHead(HTTPResponseHead(version: .http1_1, status: .ok))
        else { Issue.record("no head"); return }
        #expect(head.headers.first(name: "x-request-id") == "req_test")
        guard case .write(.body(.byteBuffer(let part))) = try machine.upstreamBodyPart(ByteBuffer(string: "ok")) else {
            Issue.record("no body"); return
        }
        #expect(String(buffer: part) == "ok")
        guard case .finish(let finish) = try machine.upstreamEnd() else { Issue.record("no finish"); return }
        #expect(!finish.close)
        #expect(finish.completion.context.responseBytes == 2)
        #expect(finish.completion.context.recordAwaitsOutcome == false, "records off: no record id")
        #expect(machine.current == nil)
        guard case .idle = machine.state else { Issue.record("not idle: \(machine.state)"); return }
    }

    @Test("A refusal by a phase is recorded first, then answered in the vendor's shape; keep-alive after a read body")
    func refusalPath() async throws {
        var machine = try await Self.machine()
        let action = try Self.request(&machine, body: "please refuse")
        guard case .recordRefusal(let error, let refused, let quarantined) = action else {
            Issue.record("\(action)"); return
        }
        let serial = refused.serial
        #expect(error.kind == .forbidden)
        #expect(quarantined.map { String(buffer: $0) } == "please refuse", "the body is offered for quarantine")
        guard case .finish(let finish) = try machine.refusalRecorded(serial: serial, answer: error, recordID: nil)
        else { Issue.record("no finish"); return }
        #expect(!finish.close)
        guard case .head(let head) = finish.lastParts.first else { Issue.record("no head"); return }
        #expect(head.status == .forbidden)
        #expect(finish.completion.context.error?.kind == .forbidden)
    }

    @Test("A body past the limit is refused while it arrives, and the connection closes after the answer")
    func bodyTooLarge() async throws {
        var machine = try await Self.machine(maxBodyBytes: 4)
        let head = Self.head()
        _ = try machine.requestPart(.head(head))
        _ = try machine.headReceived(head, context: Self.context(head))
        guard case .recordRefusal(let error, let refused, nil) = try machine.requestPart(.body(ByteBuffer(string: "12345")))
        else { Issue.record("not refused"); return }
        let serial = refused.serial
        #expect(error.kind == .payloadTooLarge)
        guard case .finish(let finish) = try machine.refusalRecorded(serial: serial, answer: error, recordID: nil) else {
            Issue.record("no finish"); return
        }
        #expect(finish.close, "the unread rest of the body would be taken for the next request")
        #expect(machine.isClosed)
    }

    @Test("A declared length past the limit is refused at the head")
    func declaredTooLarge() async throws {
        var machine = try await Self.machine(maxBodyBytes: 4)
        let head = Self.head(length: 5)
        _ = try machine.requestPart(.head(head))
        guard case .recordRefusal(let error, _, _) = try machine.headReceived(head, context: Self.context(head)) else {
            Issue.record("not refused"); return
        }
        #expect(error.kind == .payloadTooLarge)
    }

    @Test("An unrouted path is refused by the router filter (404)")
    func unrouted() async throws {
        var machine = try await Self.machine()
        guard case .recordRefusal(let error, _, _) = try Self.request(&machine, body: "{}", path: "/nowhere") else {
            Issue.record("not refused"); return
        }
        #expect(error.kind == .notFound)
    }

    @Test("A large body is inspected off the loop; its result comes back as `inspected`")
    func offLoopInspection() async throws {
        var machine = try await Self.machine(offLoop: true)
        guard case .inspectOffLoop(let job, let body) = try Self.request(&machine, body: "{}") else {
            Issue.record("inline"); return
        }
        let admission = machine.pipeline.admit(job.head, body: body, context: job.context, states: job.states)
        guard case .recordForwarded = try machine.inspected(serial: job.serial, .success(admission)) else {
            Issue.record("not recorded"); return
        }
        var failing = try await Self.machine(offLoop: true)
        guard case .inspectOffLoop(let other, _) = try Self.request(&failing, body: "{}") else { return }
        guard case .recordRefusal(let error, _, _) = try failing.inspected(serial: other.serial, .failure(Failure("pool gone")))
        else { Issue.record("not refused"); return }
        #expect(error.kind == .internalFailure, "inspection that could not run fails closed")
    }

    @Test("A decision record that cannot be written refuses the request with 503; nothing is sent")
    func recordUnavailable() async throws {
        var machine = try await Self.machine()
        guard case .recordForwarded(let recorded) = try Self.request(&machine, body: "{}") else { return }
        let serial = recorded.serial
        guard case .recordRefusal(let error, _, _) = try machine.recordDurable(serial: serial, .failure(AuditTrail.unavailable))
        else { Issue.record("not refused"); return }
        #expect(error.kind == .auditUnavailable)
    }

    // MARK: - Results that arrive late

    @Test("A caller that leaves while its record is written: the request completes when the record does, marked unsent")
    func callerLeavesWhileRecording() async throws {
        var machine = try await Self.machine()
        guard case .recordForwarded(let recorded) = try Self.request(&machine, body: "{}") else { return }
        let serial = recorded.serial
        guard case .releaseBody = machine.callerClosed() else { Issue.record("body kept"); return }
        let id = RecordID.generate()
        guard case .complete(let completion) = try machine.recordDurable(serial: serial, .success(id)) else {
            Issue.record("not completed"); return
        }
        #expect(completion.context.auditRecordID == id)
        #expect(completion.context.recordAwaitsOutcome, "the outcome line says it was never sent")
        #expect(!completion.context.forwarded)
        #expect(GatewayAudit.Decision(ended: completion.context) == .allow, "the record's decision, not a refusal")
    }

    @Test("A connection granted after its request has gone is given back")
    func lateGrantReturned() async throws {
        var machine = try await Self.machine()
        guard case .recordForwarded(let recorded) = try Self.request(&machine, body: "{}") else { return }
        let serial = recorded.serial
        _ = try machine.recordDurable(serial: serial, .success(nil))
        guard case .complete = machine.callerClosed() else { Issue.record("not completed"); return }
        let connection = try Self.connection(EmbeddedEventLoop())
        guard case .returnConnection = try machine.upstreamGranted(serial: serial, .connection(connection)) else {
            Issue.record("connection kept"); return
        }
    }

    @Test("A result for an earlier request on the connection does nothing")
    func staleSerialIgnored() async throws {
        var machine = try await Self.machine()
        guard case .recordRefusal(let error, let refused, _) = try Self.request(&machine, body: "refuse") else { return }
        let first = refused.serial
        _ = try machine.refusalRecorded(serial: first, answer: error, recordID: nil)
        guard case .recordForwarded = try Self.request(&machine, body: "{}") else { return }
        guard case .none = try machine.refusalRecorded(serial: first, answer: error, recordID: nil) else {
            Issue.record("a stale result acted"); return
        }
        guard case .recording = machine.state else { Issue.record("state changed: \(machine.state)"); return }
    }

    @Test("The caller leaving mid-answer abandons the vendor connection and completes the request once")
    func callerLeavesMidAnswer() async throws {
        var machine = try await Self.machine()
        guard case .recordForwarded(let recorded) = try Self.request(&machine, body: "{}") else { return }
        let serial = recorded.serial
        _ = try machine.recordDurable(serial: serial, .success(nil))
        _ = try machine.upstreamGranted(serial: serial, .connection(try Self.connection(EmbeddedEventLoop())))
        guard case .abandon(_, let completion) = machine.callerClosed() else { Issue.record("not abandoned"); return }
        #expect(completion.context.error != nil)
        guard case .none = machine.callerClosed() else { Issue.record("completed twice"); return }
    }

    @Test("A vendor failing mid-stream ends a chunked answer cleanly and closes")
    func upstreamFailsMidStream() async throws {
        var machine = try await Self.machine()
        guard case .recordForwarded(let recorded) = try Self.request(&machine, body: "{}") else { return }
        let serial = recorded.serial
        _ = try machine.recordDurable(serial: serial, .success(nil))
        _ = try machine.upstreamGranted(serial: serial, .connection(try Self.connection(EmbeddedEventLoop())))
        _ = try machine.upstreamHead(HTTPResponseHead(version: .http1_1, status: .ok))
        guard case .finish(let finish) = try machine.upstreamFailed(GatewayError(.upstreamProtocol, "x"), responseStarted: true)
        else { Issue.record("no finish"); return }
        #expect(finish.close)
        guard case .end = finish.lastParts.first else { Issue.record("no clean end"); return }
    }

    // MARK: - Pipelining and draining

    @Test("Parts behind a busy request are held in order and handed back once it has ended")
    func pipelinedPartsHeld() async throws {
        var machine = try await Self.machine()
        guard case .recordRefusal(let error, let refused, _) = try Self.request(&machine, body: "refuse") else { return }
        let serial = refused.serial
        let next = Self.head("/v1/models")
        guard case .pauseReading = try machine.requestPart(.head(next)) else { Issue.record("not held"); return }
        guard case .pauseReading = try machine.requestPart(.end(nil)) else { Issue.record("not held"); return }
        #expect(machine.nextPipelinedPart() == nil, "nothing is handed back while the request is busy")
        guard case .finish(let finish) = try machine.refusalRecorded(serial: serial, answer: error, recordID: nil) else {
            return
        }
        #expect(finish.resumePipelined)
        guard case .head(let head)? = machine.nextPipelinedPart() else { Issue.record("head lost"); return }
        #expect(head.uri == "/v1/models")
        guard case .beginRequest = try machine.requestPart(.head(head), held: true) else {
            Issue.record("a held part lost its place"); return
        }
    }

    @Test("A drain closes an idle connection at once, a busy one after its answer")
    func drain() async throws {
        var idle = try await Self.machine()
        guard case .close = idle.drain() else { Issue.record("idle not closed"); return }
        var busy = try await Self.machine()
        guard case .recordRefusal(let error, let refused, _) = try Self.request(&busy, body: "refuse") else { return }
        let serial = refused.serial
        guard case .none = busy.drain() else { Issue.record("busy closed early"); return }
        guard case .finish(let finish) = try busy.refusalRecorded(serial: serial, answer: error, recordID: nil) else { return }
        #expect(finish.close)
    }

    @Test("A parse error on an idle connection is refused with a record; behind a busy request it closes after")
    func parseFailures() async throws {
        var machine = try await Self.machine()
        let failure = GatewayError(.badRequest, "not HTTP")
        guard case .recordRefusal(let error, _, _) = machine.parseFailed(failure, context: Self.context(Self.head()))
        else { Issue.record("not refused"); return }
        #expect(error.kind == .badRequest)
        var busy = try await Self.machine()
        guard case .recordForwarded = try Self.request(&busy, body: "{}") else { return }
        guard case .none = busy.parseFailed(failure, context: Self.context(Self.head())) else { return }
    }

    // MARK: - Illegal transitions

    @Test("Events the state does not allow are typed errors", arguments: [
        "body while idle", "end while idle", "second head while receiving", "vendor head while idle",
        "vendor part while recording", "vendor end while receiving", "vendor failure while idle",
        "record result while receiving", "grant while recording",
    ])
    func illegalTransitions(_ event: String) async throws {
        var machine = try await Self.machine()
        let head = Self.head()
        func receiving() throws {
            _ = try machine.requestPart(.head(head))
            _ = try machine.headReceived(head, context: Self.context(head))
        }
        #expect(throws: Machine.IllegalTransition.self) {
            switch event {
            case "body while idle": _ = try machine.requestPart(.body(ByteBuffer(string: "x")))
            case "end while idle": _ = try machine.requestPart(.end(nil))
            case "second head while receiving":
                try receiving()
                _ = try machine.headReceived(head, context: Self.context(head))
            case "vendor head while idle": _ = try machine.upstreamHead(HTTPResponseHead(version: .http1_1, status: .ok))
            case "vendor part while recording":
                _ = try Self.request(&machine, body: "{}")
                _ = try machine.upstreamBodyPart(ByteBuffer(string: "x"))
            case "vendor end while receiving":
                try receiving()
                _ = try machine.upstreamEnd()
            case "vendor failure while idle": _ = try machine.upstreamFailed(GatewayError(.upstreamTimeout, "x"), responseStarted: false)
            case "record result while receiving":
                try receiving()
                _ = try machine.recordDurable(serial: 1, .success(nil))
            case "grant while recording":
                guard case .recordForwarded(let recorded) = try Self.request(&machine, body: "{}") else { return }
        let serial = recorded.serial
                _ = try machine.upstreamGranted(serial: serial, .failed(GatewayError(.upstreamTimeout, "x")))
            default: Issue.record("unknown event \(event)")
            }
        }
    }
}

extension RequestStateMachine {
    /// `headReceived` on a connection without a verified key.
    mutating func headReceived(_ head: HTTPRequestHead, context: RequestContext) throws(IllegalTransition) -> Action {
        var verifiedKey: VerifiedKey? = nil
        return try self.headReceived(head, context: context, verifiedKey: &verifiedKey)
    }
}
