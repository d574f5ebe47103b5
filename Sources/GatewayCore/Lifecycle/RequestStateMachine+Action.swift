import GatewayAudit
import NIOCore
import NIOHTTP1

extension RequestStateMachine {
    /// The request a connection is serving, carried by the state it is in. A class: the transitions change it in
    /// place on the connection's event loop, instead of copying the whole request out of the enum and back at every
    /// event (which cost a retain and a release of each of its fields).
    final class InFlight {
        /// Tags the results of waits started for this request, so a late one is told apart from the current one's.
        let serial: UInt64
        let head: HTTPRequestHead
        var context: RequestContext
        /// The phases in force when the head arrived: the request keeps them to its end, whatever a reload does.
        let pipeline: RequestPipeline
        /// The filters' own states for this request.
        var states: FilterStates
        var body = ByteBuffer()
        var limit = 0
        /// Bytes of the body budget this request holds: what its body has grown to.
        var reservedBytes = 0
        /// The body's declared `Content-Length` (0 without one).
        var declaredBytes = 0
        /// Whether the whole body was read (a refusal before that closes the connection).
        var bodyRead = false
        /// Whether the answer has no `Content-Length` (a broken stream can then still be ended cleanly).
        var chunked = false
        /// What phase 4 made for the vendor, once admitted.
        var upstream: UpstreamRequest?
        /// The vendor connection relaying the answer.
        var connection: UpstreamConnection?

        init(serial: UInt64, head: HTTPRequestHead, context: RequestContext, pipeline: RequestPipeline) {
            self.serial = serial
            self.head = head
            self.context = context
            self.context.ruleSet = pipeline.identity
            self.pipeline = pipeline
            self.states = pipeline.makeStates()
        }
    }

    /// A request that has ended: the complete phase runs once on it, and its body budget is given back. It refers to
    /// the request rather than copying its context.
    struct Completion {
        let flight: InFlight
        var context: RequestContext { self.flight.context }
        var states: FilterStates { self.flight.states }
        var reservedBytes: Int { self.flight.reservedBytes }
    }

    /// The end of a request with an answer.
    struct Finish {
        let completion: Completion
        /// The answer's last parts: written, then flushed at the end of the pass (or at once before closing).
        let lastParts: [HTTPServerResponsePart]
        /// Close the connection once they are written.
        let close: Bool
        /// Requests pipelined behind this one are waiting: feed them in once this stack has unwound.
        let resumePipelined: Bool
    }

    /// What the handler does next. Payloads refer to the in-flight request rather than copy its context, so an
    /// action stays a few words wide.
    enum Action {
        case none
        /// A pipelined part is held: stop reading until the current request has ended.
        case pauseReading
        /// A head arrived on an idle connection: make its context and report `headReceived`.
        case beginRequest(HTTPRequestHead)
        /// Hold the body: allocate its buffer (report `bodyBufferAllocated`), sending `100 Continue` if asked.
        case receiveBody(expectedBytes: Int, sendContinue: Bool)
        /// Run phases 3 and 4 on the inspection pool, on copies of the request's context and states; report
        /// `inspected`.
        case inspectOffLoop(InFlight, RequestBody)
        /// Make the forwarding record durable; report `recordDurable`.
        case recordForwarded(InFlight)
        /// Make the refusal's record durable, keeping `quarantining` when the refusal is a policy block; report
        /// `refusalRecorded`.
        case recordRefusal(GatewayError, InFlight, quarantining: ByteBuffer?)
        /// Send an assembled upload to the vendor as the upload's one part, before the completion in
        /// `flight.upstream`; report `uploadSent`.
        case sendUpload([UInt8], InFlight)
        /// Take a connection to the request's provider; report `upstreamGranted`.
        case acquireUpstream(InFlight)
        /// Give back a connection granted to a request that has gone.
        case returnConnection(UpstreamConnection)
        /// Send `flight.upstream` on `flight.connection`; its answer comes back as `upstreamHead`,
        /// `upstreamBodyPart`, `upstreamEnd` or `upstreamFailed`.
        case send(InFlight)
        /// Write a part of the answer (flushed at the end of the pass).
        case write(HTTPServerResponsePart)
        case finish(Finish)
        /// The request ended without an answer (its caller left).
        case complete(Completion)
        /// The caller left mid-answer: close the vendor's connection, then complete the request.
        case abandon(UpstreamConnection, Completion)
        /// The caller left while the forwarding record was written: give the body budget back now (the request
        /// completes when the record does).
        case releaseBody(Int)
        case close
    }

    /// An event the current state does not allow: a bug in the handler or in a collaborator (a vendor connection
    /// reporting after its exchange ended). The connection is closed; nothing is forwarded.
    struct IllegalTransition: Error, CustomStringConvertible {
        let event: String
        let state: String

        init(event: String, state: State) {
            self.event = event
            self.state = switch state {
            case .idle: "idle"
            case .receiving: "receiving"
            case .inspecting: "inspecting"
            case .recording: "recording"
            case .connecting: "connecting"
            case .relaying: "relaying"
            case .refusing: "refusing"
            case .closed: "closed"
            }
        }

        var description: String { "illegal request transition: \(self.event) in state \(self.state)" }
    }
}
