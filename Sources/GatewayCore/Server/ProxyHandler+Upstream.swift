import Foundation
import GatewayCrypto
import GatewayDocuments
import NIOCore
import NIOHTTP1
import NIOPosix

/// The waits the handler starts for its state machine: inspection off the loop, the upstream connection, an
/// assembled upload sent first; and the vendor's answer, told back to the machine part by part.
extension ProxyHandler {
    /// Phases 3 and 4 on the inspection pool, on copies of the request's head, context and states.
    func inspectOffLoop(_ flight: RequestStateMachine.InFlight, body: RequestBody, on loop: any EventLoop) {
        guard let pool = self.settings.inspectionPool else { return }
        let (pipeline, serial, head, context, states) = (flight.pipeline, flight.serial, flight.head, flight.context,
                                                        flight.states.copied(flight.pipeline.filters))
        pool.runIfActive(eventLoop: loop) {
            InspectionThreads.yieldToEventLoops()
            return pipeline.admit(head, body: body, context: context, states: states)
        }
        .assumeIsolated().whenComplete { result in
            self.transition { machine throws(RequestStateMachine.IllegalTransition) in
                try machine.inspected(serial: serial, result)
            }
        }
    }

    func acquireUpstream(provider: String, serial: UInt64, on loop: any EventLoop) {
        guard let source = self.settings.upstreams[provider] else {
            self.transition { machine throws(RequestStateMachine.IllegalTransition) in
                try machine.upstreamGranted(serial: serial, .failed(GatewayError(.internalFailure, "no upstream pool")))
            }
            return
        }
        let bound = NIOLoopBound(self, eventLoop: loop)
        source.acquire(on: loop) { grant in
            bound.value.transition { machine throws(RequestStateMachine.IllegalTransition) in
                let action = try machine.upstreamGranted(serial: serial, grant)
                // Granted after its request has gone (the caller left): it goes back unused.
                if case .returnConnection(let connection) = action {
                    source.finished(connection, reusable: true)
                    return .none
                }
                return action
            }
        }
    }

    /// Sends an assembled, inspected upload to the vendor as the upload's one part; the completion then goes with
    /// that part's id in place of the ids the gateway gave out.
    func sendUpload(_ file: [UInt8], flight: RequestStateMachine.InFlight, on loop: any EventLoop) {
        let (serial, context) = (flight.serial, flight.context)
        let report: (Result<UpstreamRequest, GatewayError>, Int) -> Void = { result, bytes in
            self.transition { machine throws(RequestStateMachine.IllegalTransition) in
                try machine.uploadSent(serial: serial, result, forwardedBytes: bytes)
            }
        }
        guard let provider = context.provider, let source = self.settings.upstreams[provider.name],
              let completion = flight.upstream
        else {
            report(.failure(GatewayError(.internalFailure, "no upstream pool")), 0)
            return
        }
        let boundary = "gateway-" + Crypto.hex(Crypto.identifierBytes(count: 8))
        let partBody = UploadHold.partBody(file, boundary: boundary)
        let head = completion.head
        var partHead = head
        let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
        partHead.uri = String(path.dropLast("complete".count)) + "parts"
        partHead.headers.replaceOrAdd(name: "Content-Type", value: "multipart/form-data; boundary=\(boundary)")
        partHead.headers.replaceOrAdd(name: "Content-Length", value: String(partBody.count))
        partHead.headers.remove(name: "Content-Encoding")
        let firstByte = TimeAmount.seconds(Int64(provider.timeouts.firstByteSeconds))
        VendorExchange.send(head: partHead, body: ByteBuffer(bytes: partBody), source: source, on: loop,
                            firstByteTimeout: firstByte)
            .assumeIsolated().whenComplete { result in
                switch result {
                case .success(let response) where (200..<300).contains(response.head.status.code):
                    guard let partID = Self.partID(in: response.body),
                          let body = Self.completion(completion.body, partID: partID)
                    else {
                        report(.failure(Self.vendorRefusedPart(status: response.head.status.code)), 0)
                        return
                    }
                    var completeHead = head
                    completeHead.headers.replaceOrAdd(name: "Content-Length", value: String(body.readableBytes))
                    report(.success(UpstreamRequest(head: completeHead, body: body)), partBody.count)
                case .success(let response):
                    report(.failure(Self.vendorRefusedPart(status: response.head.status.code)), 0)
                case .failure(let error):
                    report(.failure(error as? GatewayError ?? GatewayError(.upstreamProtocol, "\(error)")), 0)
                }
            }
    }

    private static func vendorRefusedPart(status: UInt) -> GatewayError {
        GatewayError(
            .upstreamProtocol,
            "The vendor did not accept the inspected upload (status \(status)); the upload was not completed.")
    }

    /// The `id` of a part object the vendor answered.
    static func partID(in body: ByteBuffer) -> String? {
        let object = (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any]
        return object?["id"] as? String
    }

    /// The completion body with `part_ids` replaced by the one part the gateway sent.
    static func completion(_ body: ByteBuffer, partID: String) -> ByteBuffer? {
        guard var object = (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any]
        else { return nil }
        object["part_ids"] = [partID]
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return nil }
        return ByteBuffer(bytes: data)
    }

    /// Whether phases 3 and 4 run off the event loop: for large bodies, bodies that may carry documents (whose
    /// extraction may take longer than their size suggests), and bodies presenting a release token (redeeming one
    /// locks, writes and fsyncs the release ledger: blocking file I/O has no place on an event loop).
    static func admitsOffLoop(_ body: RequestBody, offLoopBytes: Int) -> Bool {
        body.bytes.readableBytes >= offLoopBytes || body.releaseToken != nil || Self.mayCarryDocuments(body)
    }

    /// A body whose type may carry a document, or a JSON body holding base64 content (a data URL, a base64 source).
    static func mayCarryDocuments(_ body: RequestBody) -> Bool {
        if ClassificationFilter.mayCarryDocuments(body) { return true }
        return body.bytes.readableBytesView.withContiguousStorageIfAvailable { bytes in
            // A run of base64 is looked for only in bodies of 16 KiB or more: a smaller document is small enough to
            // read on the loop (its expansion is bounded by the compression-ratio limit).
            ByteText.firstIndex(of: Self.base64Marker, in: bytes) != nil || (bytes.count >= 16 * 1024 && Self.hasBase64Run(bytes, length: 1024))
        } ?? false
    }

    private static let base64Marker: [UInt8] = [0x62, 0x61, 0x73, 0x65, 0x36, 0x34]  // "base64"

    /// Whether `bytes` hold a run of `length` base64 characters: a file sent as a bare base64 string (its key or its
    /// `base64` marker may be escaped).
    static func hasBase64Run(_ bytes: UnsafeBufferPointer<UInt8>, length: Int) -> Bool {
        var run = 0
        for byte in bytes {
            let isBase64 = (byte | 0x20) &- 0x61 < 26 || byte &- 0x30 < 10 || byte == 0x2B || byte == 0x2F
            run = isBase64 ? run + 1 : 0
            if run >= length { return true }
        }
        return false
    }
}

/// Phases 5 and 6: the vendor's answer, told to the state machine as it arrives.
extension ProxyHandler: UpstreamResponseReceiver {
    func upstreamResponseHead(_ head: HTTPResponseHead) {
        self.transition { machine throws(RequestStateMachine.IllegalTransition) in try machine.upstreamHead(head) }
    }

    func upstreamResponseBody(_ chunk: ByteBuffer) {
        self.transition { machine throws(RequestStateMachine.IllegalTransition) in try machine.upstreamBodyPart(chunk) }
    }

    func upstreamReadComplete() {
        if let context = self.channelContext { self.passEndFlush.request(context) }
    }

    func upstreamResponseEnd() {
        self.transition { machine throws(RequestStateMachine.IllegalTransition) in try machine.upstreamEnd() }
    }

    func upstreamFailed(_ error: GatewayError, responseStarted: Bool) {
        self.transition { machine throws(RequestStateMachine.IllegalTransition) in
            try machine.upstreamFailed(error, responseStarted: responseStarted)
        }
    }
}
