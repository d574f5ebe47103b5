import Foundation
import GatewayCrypto
import GatewayDocuments
import NIOCore
import NIOHTTP1
import NIOPosix

/// Phases 1 to 4 of a request on its connection: the head, the complete body, the decision record, the upstream
/// connection. Each async step checks, when it completes, that the request it belongs to is still the current one.
extension ProxyHandler {
    /// Phases 1 and 2 on the head, then the body is held.
    func begin(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        let flight = self.startRequest(head, method: head.method.rawValue, target: head.uri, context: context)
        self.timeouts?.headReceived()
        do throws(GatewayError) {
            try RequestHeadChecks.check(head)
            try self.pipeline.authenticate(head, context: &flight.context)
            self.verifiedKey = flight.context.verifiedKey  // only authentication changes it
            try self.pipeline.route(head, context: &flight.context)
            flight.limit = min(self.settings.maxBodyBytes, flight.context.bodyLimit ?? .max)
            let declared = head.headers.first(name: "content-length").flatMap(Int.init)
            if let declared, declared > flight.limit { throw Self.tooLarge(flight.limit) }
            // The budget is taken as bytes arrive (see `channelRead`), not for the declared length: heads alone,
            // declaring large bodies that never come, must not hold it. For the same reason the buffer is only
            // pre-sized up to 1 MiB.
            flight.declaredBytes = declared ?? 0
            // `RequestHeadChecks` let only `100-continue` through. HTTP/1.0 clients do not know 100 Continue (RFC 9110
            // §10.1.1): it is sent only to HTTP/1.1 ones.
            if head.version.minor >= 1, head.headers.contains(name: "expect") {
                context.writeAndFlush(
                    self.wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .continue))), promise: nil
                )
            }
            flight.body = context.channel.allocator.buffer(capacity: min(max(0, declared ?? 0), 1 << 20))
            self.state = .receiving
        } catch {
            self.refuse(error, flight: flight, quarantining: nil, bodyRead: false)
        }
    }

    /// Phases 3 and 4 on the complete body: inline for small bodies, on the inspection pool for large ones.
    func admit(_ flight: InFlightRequest) {
        guard let loop = self.channelContext?.eventLoop else { return }
        self.state = .admitting
        flight.context.requestBytes = flight.body.readableBytes
        let body = RequestBody(
            bytes: flight.body, contentType: flight.head.headers.first(name: "content-type"),
            contentEncoding: flight.head.headers.first(name: "content-encoding"),
            releaseToken: flight.head.headers.first(name: "x-gateway-release")
        )
        if Self.admitsOffLoop(body, offLoopBytes: self.settings.offLoopInspectionBytes),
           let pool = self.settings.inspectionPool
        {
            let (pipeline, head, requestContext) = (self.pipeline, flight.head, flight.context)
            pool.runIfActive(eventLoop: loop) {
                InspectionThreads.yieldToEventLoops()
                return pipeline.admit(head, body: body, context: requestContext)
            }
                .assumeIsolated().whenComplete { result in
                    switch result {
                    case .success(let admission):
                        guard self.currentRequest === flight else { return }
                        flight.context = admission.context
                        self.admitted(admission.outcome, flight: flight)
                    case .failure(let error):
                        guard self.currentRequest === flight else { return }
                        self.refuse(
                            GatewayError(.internalFailure, "Inspection could not run: \(error)"), flight: flight,
                            quarantining: nil, bodyRead: true
                        )
                    }
                }
        } else {
            self.admitted(self.pipeline.admit(flight.head, body: body, context: &flight.context), flight: flight)
        }
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

    /// The outcome of phases 3 and 4; `flight.context` already holds what they decided.
    private func admitted(
        _ outcome: Result<(head: HTTPRequestHead, body: ByteBuffer), GatewayError>, flight: InFlightRequest
    ) {
        guard self.currentRequest === flight, let loop = self.channelContext?.eventLoop else { return }
        switch outcome {
        case .failure(let error):
            self.refuse(error, flight: flight, quarantining: flight.body, bodyRead: true)
        case .success(let upstream):
            self.pipeline.recordForwarded(flight.context, on: loop).assumeIsolated().whenComplete { result in
                guard self.currentRequest === flight else {
                    // The caller left while the record was written; nothing is sent, and the log says so.
                    if case .success(let recordID?) = result {
                        var context = flight.context
                        context.auditRecordID = recordID
                        self.pipeline.recordUnforwarded(context)
                    }
                    return
                }
                switch result {
                case .success(let recordID):
                    flight.context.auditRecordID = recordID
                    if let answer = flight.context.localAnswer {
                        self.answerLocally(answer, flight: flight)
                    } else if let file = flight.context.uploadToSend {
                        self.sendUpload(file, thenForward: flight, head: upstream.head, body: upstream.body)
                    } else {
                        self.forward(flight, head: upstream.head, body: upstream.body)
                    }
                case .failure(let error):
                    self.refuse(
                        error as? GatewayError ?? AuditTrail.unavailable, flight: flight, quarantining: nil,
                        bodyRead: true
                    )
                }
            }
        }
    }

    // MARK: - Answers the gateway gives itself

    /// 200 with the gateway's own JSON (an upload part it holds); nothing goes to the vendor.
    private func answerLocally(_ answer: LocalAnswer, flight: InFlightRequest) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Content-Length", value: String(answer.json.utf8.count))
        headers.add(name: "x-request-id", value: flight.context.requestID)
        flight.context.responseStatus = 200
        flight.context.responseBytes = answer.json.utf8.count
        self.finish(
            flight, keepAlive: flight.head.isKeepAlive,
            lastParts: [
                .head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers)),
                .body(.byteBuffer(ByteBuffer(string: answer.json))), .end(nil),
            ]
        )
    }

    /// Sends an assembled, inspected upload to the vendor as the upload's one part, then forwards the completion
    /// with that part's id in place of the ids the gateway gave out.
    private func sendUpload(_ file: [UInt8], thenForward flight: InFlightRequest, head: HTTPRequestHead, body: ByteBuffer) {
        guard let loop = self.channelContext?.eventLoop, let provider = flight.context.provider,
              let pool = self.settings.pools[provider.name]
        else {
            self.respond(GatewayError(.internalFailure, "no upstream pool"), flight: flight, keepAlive: false)
            return
        }
        let boundary = "gateway-" + Crypto.hex(Crypto.identifierBytes(count: 8))
        let partBody = UploadHold.partBody(file, boundary: boundary)
        var partHead = head
        let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
        partHead.uri = String(path.dropLast("complete".count)) + "parts"
        partHead.headers.replaceOrAdd(name: "Content-Type", value: "multipart/form-data; boundary=\(boundary)")
        partHead.headers.replaceOrAdd(name: "Content-Length", value: String(partBody.count))
        partHead.headers.remove(name: "Content-Encoding")
        flight.context.upstreamStartedAt = .now
        let firstByte = TimeAmount.seconds(Int64(provider.timeouts.firstByteSeconds))
        VendorExchange.send(head: partHead, body: ByteBuffer(bytes: partBody), pool: pool, on: loop,
                            firstByteTimeout: firstByte)
            .assumeIsolated().whenComplete { result in
                guard self.currentRequest === flight else { return }
                switch result {
                case .success(let response) where (200..<300).contains(response.head.status.code):
                    guard let partID = Self.partID(in: response.body),
                          let completion = Self.completion(body, partID: partID)
                    else {
                        self.vendorRefusedPart(flight, status: response.head.status.code, body: response.body)
                        return
                    }
                    var completeHead = head
                    completeHead.headers.replaceOrAdd(name: "Content-Length", value: String(completion.readableBytes))
                    flight.context.forwardedBytes += partBody.count
                    self.forward(flight, head: completeHead, body: completion)
                case .success(let response):
                    self.vendorRefusedPart(flight, status: response.head.status.code, body: response.body)
                case .failure(let error):
                    let failure = error as? GatewayError ?? GatewayError(.upstreamProtocol, "\(error)")
                    flight.context.error = failure
                    self.respond(failure, flight: flight, keepAlive: flight.head.isKeepAlive)
                }
            }
    }

    private func vendorRefusedPart(_ flight: InFlightRequest, status: UInt, body: ByteBuffer) {
        let failure = GatewayError(
            .upstreamProtocol,
            "The vendor did not accept the inspected upload (status \(status)); the upload was not completed.")
        flight.context.error = failure
        self.respond(failure, flight: flight, keepAlive: flight.head.isKeepAlive)
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

    // MARK: - Forwarding

    private func forward(_ flight: InFlightRequest, head: HTTPRequestHead, body: ByteBuffer) {
        guard let loop = self.channelContext?.eventLoop, let provider = flight.context.provider,
            let pool = self.settings.pools[provider.name]
        else {
            flight.context.error = GatewayError(.internalFailure, "no upstream pool")
            self.respond(flight.context.error!, flight: flight, keepAlive: false)
            return
        }
        flight.context.upstreamStartedAt = .now
        let firstByte = TimeAmount.seconds(Int64(provider.timeouts.firstByteSeconds))
        let bound = NIOLoopBound((handler: self, flight: flight), eventLoop: loop)
        pool.acquire(on: loop) { grant in
            let (handler, flight) = bound.value
            guard handler.currentRequest === flight, case .admitting = handler.state else {
                // The caller left while the connection was being found: it goes back unused.
                if case .connection(let connection) = grant { pool.finished(connection, reusable: true) }
                return
            }
            switch grant {
            case .connection(let connection):
                handler.state = .relaying(connection)
                connection.handler.send(head: head, body: body, to: handler, firstByteTimeout: firstByte)
            case .failed(let error):
                flight.context.error = error
                handler.respond(error, flight: flight, keepAlive: flight.head.isKeepAlive)
            }
        }
    }
}
