import Foundation
import NIOCore
import NIOHTTP1
import Testing

/// Every test starts its own gateway and fake vendors; the parent suite runs them one at a time so that the timing
/// assertions (streams, timeouts, drain) do not compete for the CPU with the 100-connection test.
@Suite(.serialized, .timeLimit(.minutes(1)))
enum GatewayIntegration {}

extension GatewayIntegration {
    /// What needs the real path: TLS both ways and real sockets end to end (a plain answer, a stream's timing),
    /// large bodies inspected on the inspection threads, the upstream pools under concurrency, and `idle_seconds`
    /// as the pool's connections apply it. The rest: `ForwardingInMemoryTests`.
    @Suite("Forwarding to the vendor")
    struct Forwarding {
        @Test("OpenAI chat completion, not streamed: the vendor's JSON reaches the caller unchanged")
        func openAINonStreaming() async throws {
            try await GatewayHarness.run { gateway in
                let marker = makeMarker()
                let response = try await gateway.client.send(
                    .json("/v1/chat/completions?m=\(marker)", #"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}"#)
                )
                #expect(response.status == .ok)
                let json = try #require(response.json)
                #expect(json["object"] as? String == "chat.completion")
                #expect(json["model"] as? String == "gpt-4o-mini")
                #expect(response.headers.first(name: "content-type") == "application/json")
                #expect(response.headers.first(name: "x-vendor-trace") == "kept")
                let requestID = try #require(response.requestID)
                #expect(requestID.hasPrefix("req_"))
                #expect(response.headers["x-request-id"].count == 1, "the vendor's own x-request-id is replaced")

                let received = gateway.vendor.requests(containing: marker)
                try #require(received.count == 1)
                let request = received[0]
                #expect(request.method == .POST)
                #expect(request.uri == "/v1/chat/completions?m=\(marker)")
                #expect(request.headers["host"] == ["127.0.0.1:\(gateway.vendor.port)"])
                #expect(request.headers["authorization"] == [VendorKeys.openAI])
                #expect(request.bodyText == #"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}"#)
                #expect(request.headers["content-length"] == [String(request.body.count)])
            }
        }

        @Test("OpenAI SSE stream: events reach the caller as the vendor sends them")
        func openAIStreaming() async throws {
            try await GatewayHarness.run { gateway in
                let marker = makeMarker()
                let response = try await gateway.client.send(
                    .json(
                        "/v1/chat/completions?m=\(marker)",
                        #"{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"count"}]}"#,
                        headers: [("Accept", "text/event-stream")]
                    )
                )
                #expect(response.status == .ok)
                #expect(response.headers.first(name: "content-type")?.hasPrefix("text/event-stream") == true)
                #expect(response.requestID != nil)
                let expected = FakeAPI.openAIStream(model: "gpt-4o", events: FakeVendor.defaultEvents).joined()
                #expect(response.text == expected)
                #expect(response.text.hasSuffix("data: [DONE]\n\n"))
                try Self.expectIncremental(response, vendor: gateway.vendor, marker: marker)
            }
        }

        /// The first event reached the caller before the vendor sent its last one, and the events came in
        /// several parts spread over time (not one buffered blob).
        static func expectIncremental(_ response: TestResponse, vendor: FakeVendor, marker: String) throws {
            let request = try #require(vendor.requests(containing: marker).first)
            let timing = try #require(vendor.streamTiming(ofRequest: request.index))
            let lastSent = try #require(timing.lastEventSent)
            let firstArrived = try #require(response.bodyParts.first?.arrived)
            #expect(firstArrived < lastSent, "the first event arrived only after the vendor had sent the last one")
            #expect(response.bodyParts.count >= 3, "events arrived in \(response.bodyParts.count) part(s)")
            if let last = response.bodyParts.last?.arrived {
                #expect(last - firstArrived >= .milliseconds(200), "the parts arrived within \(last - firstArrived)")
            }
        }

        @Test("A 4 MiB JSON body is forwarded byte for byte")
        func largeBody() async throws {
            try await GatewayHarness.run { gateway in
                let marker = makeMarker()
                let words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet"]
                var text = ""
                text.reserveCapacity(4 * 1024 * 1024 + 64)
                var n = 0
                while text.utf8.count < 4 * 1024 * 1024 - 200 {
                    text += words[n % words.count]
                    text += n % 13 == 0 ? ". " : " "
                    n += 1
                }
                let body = #"{"model":"gpt-4o","messages":[{"role":"user","content":"\#(marker) \#(text)"}]}"#
                #expect(body.utf8.count > 4 * 1024 * 1024 - 200 && body.utf8.count <= 4 * 1024 * 1024)
                let response = try await gateway.client.send(.json("/v1/chat/completions", body))
                #expect(response.status == .ok)
                let received = gateway.vendor.requests(containing: marker)
                try #require(received.count == 1)
                #expect(received[0].body.count == body.utf8.count)
                #expect(received[0].body == Array(body.utf8), "the body the vendor received differs")
            }
        }

        @Test("100 concurrent requests all succeed over a bounded upstream pool")
        func hundredConcurrent() async throws {
            let options = GatewayHarness.Options(openAIPoolConnections: 10, anthropicPoolConnections: 6)
            try await GatewayHarness.run(options, timeLimit: .seconds(45)) { gateway in
                let marker = makeMarker()
                let statuses = try await withThrowingTaskGroup(of: (Int, UInt, Bool).self) { group in
                    for n in 0..<100 {
                        group.addTask {
                            let anthropic = n % 4 == 0
                            let response = try await gateway.client.send(
                                anthropic
                                    ? .json("/v1/messages?m=\(marker)&n=\(n)", #"{"model":"claude-3","max_tokens":1,"messages":[]}"#)
                                    : .json("/v1/chat/completions?m=\(marker)&n=\(n)", #"{"model":"gpt-4o","messages":[{"role":"user","content":"n\#(n)"}]}"#),
                                timeout: .seconds(30)
                            )
                            return (n, response.status.code, response.requestID != nil)
                        }
                    }
                    var all: [(Int, UInt, Bool)] = []
                    for try await result in group { all.append(result) }
                    return all
                }
                #expect(statuses.count == 100)
                #expect(statuses.allSatisfy { $0.1 == 200 }, "failed: \(statuses.filter { $0.1 != 200 })")
                #expect(statuses.allSatisfy { $0.2 }, "a response without x-request-id")
                let received = gateway.vendor.requests(containing: marker)
                #expect(received.count == 100)
                #expect(Set(received.map(\.uri)).count == 100, "each request reached the vendor exactly once")
                // Both pools share the fake vendor: at most 10 + 6 requests on it at any moment.
                let most = gateway.vendor.mostRequestsInFlight
                #expect(most <= 16, "\(most) requests at once on the vendor, pool bounds 10 + 6")
                #expect(Set(received.map(\.connectionID)).count < 100, "no connection was reused")
            }
        }

        @Test("Callers closing right after their response never break other requests on a reused upstream connection")
        func reusedConnectionSurvivesCallersLeaving() async throws {
            // One upstream connection, handed from request to request while each caller closes as soon as it has its
            // answer. A caller leaving after its response once cancelled the exchange late and closed the upstream
            // connection under the next caller's request (502 "connection broke"). A race: this fails often, not
            // always, when that bug is present.
            try await GatewayHarness.run(GatewayHarness.Options(openAIPoolConnections: 1), timeLimit: .seconds(40)) { gateway in
                for round in 0..<10 {
                    let failures = try await withThrowingTaskGroup(of: String?.self) { group in
                        for n in 0..<60 {
                            group.addTask {
                                let response = try await gateway.client.send(
                                    .json("/v1/chat/completions?r=\(round)&n=\(n)", #"{"model":"gpt-4o","messages":[]}"#),
                                    timeout: .seconds(10)
                                )
                                return response.status == .ok ? nil : "\(response.status.code) \(response.text)"
                            }
                        }
                        var failures: [String] = []
                        for try await failure in group { if let failure { failures.append(failure) } }
                        return failures
                    }
                    #expect(failures.isEmpty, "round \(round): \(failures)")
                    if !failures.isEmpty { break }
                }
                #expect(gateway.vendor.mostRequestsInFlight == 1, "a pool of one had \(gateway.vendor.mostRequestsInFlight) requests at once")
                // The race needs requests handed over on a live connection, so most requests must reuse one. The
                // pool keeps a connection on the event loop that used it last, and a caller on another loop takes the
                // slot by closing it and opening its own: about one new connection per loop per round, whichever
                // loops the callers land on. So this bounds the share of reuse, not the number of connections.
                let requests = gateway.vendor.requests
                let connections = Set(requests.map(\.connectionID)).count
                let reused = requests.count - connections
                #expect(requests.count == 600)
                #expect(reused * 10 >= requests.count * 8, "\(connections) connections for \(requests.count) requests: little reuse")
            }
        }

        @Test("A vendor that stalls mid-stream for longer than idle_seconds: the caller's stream is ended cleanly")
        func upstreamIdleMidStream() async throws {
            try await GatewayHarness.run { gateway in
                let marker = makeMarker()
                let started = ContinuousClock.now
                let response = try await gateway.client.send(
                    .json(
                        "/idle/v1/chat/completions?m=\(marker)", #"{"model":"gpt-4o","stream":true,"messages":[]}"#,
                        headers: [("x-fake-events", "3"), ("x-fake-delay-ms", "4000")]
                    )
                )
                let elapsed = ContinuousClock.now - started
                #expect(response.status == .ok)
                #expect(response.text == FakeAPI.openAIStream(model: "gpt-4o", events: 3)[0], "got: \(response.text)")
                #expect(elapsed >= .milliseconds(900) && elapsed < .seconds(3), "the stalled stream ended after \(elapsed)")
                #expect(gateway.vendor.requests(containing: marker).first?.uri == "/idle/idle/v1/chat/completions?m=\(marker)")
            }
        }
    }
}

/// The forwarding tests that need no sockets, on `EmbeddedGateway` with the socket harness's configuration. The test
/// plays the vendor: `exchange` and `answersAsFakeVendor` answer as `FakeVendor` does, and a test that needs the
/// answer's timing (a stream, a break) writes it part by part. Over sockets: `GatewayIntegration.Forwarding`.
@Suite("Forwarding to the vendor, in memory (EmbeddedGateway)", .timeLimit(.minutes(1)))
struct ForwardingInMemoryTests {
    @Test("Anthropic message, not streamed")
    func anthropicNonStreaming() async throws {
        let gateway = try await EmbeddedGateway(options: .socketHarness)
        let marker = makeMarker()
        let body = #"{"model":"claude-sonnet-4","max_tokens":64,"messages":[{"role":"user","content":"hi \#(marker)"}]}"#
        let response = try gateway.exchange(.json("/v1/messages", body, headers: [("anthropic-version", "2023-06-01")]))
        #expect(response.status == .ok)
        let json = try #require(response.json)
        #expect(json["type"] as? String == "message")
        #expect(json["model"] as? String == "claude-sonnet-4")
        #expect(response.requestID != nil)

        let received = try gateway.vendor.requests(containing: marker)
        try #require(received.count == 1)
        #expect(received[0].uri == "/v1/messages")
        #expect(received[0].headers["x-api-key"] == [VendorKeys.anthropic])
        #expect(received[0].headers["anthropic-version"] == ["2023-06-01"])
        #expect(!received[0].headers.contains(name: "authorization"))
        #expect(received[0].bodyText == body)
    }

    @Test("Anthropic SSE stream: message_start … message_stop, incrementally")
    func anthropicStreaming() async throws {
        let gateway = try await EmbeddedGateway(options: .socketHarness)
        let marker = makeMarker()
        try gateway.send(
            .json(
                "/v1/messages?m=\(marker)",
                #"{"model":"claude-haiku","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"count"}]}"#
            )
        )
        try #require(try gateway.vendor.requests(containing: marker).count == 1)
        // The vendor sends its events one at a time: each must have reached the caller before the vendor sends the
        // next (over sockets: the first arrived before the vendor sent the last, in several parts).
        let events = FakeAPI.anthropicStream(model: "claude-haiku", events: FakeVendor.defaultEvents)
        try gateway.vendor.answers(EmbeddedVendor.streamHead())
        var received = try gateway.callerReceived()
        #expect(received.hasPrefix("HTTP/1.1 200 OK\r\n"), "the head waits for the body: \(received)")
        for (n, event) in events.enumerated() {
            try gateway.vendor.answers(EmbeddedVendor.chunk(event))
            let relayed = try gateway.callerReceived()
            #expect(relayed.contains(event), "event \(n) had not reached the caller when the vendor sent the next")
            received += relayed
        }
        try gateway.vendor.answers(EmbeddedVendor.lastChunk)
        received += try gateway.callerReceived()

        let responses = try EmbeddedGateway.responses(in: received)
        try #require(responses.count == 1)
        let response = responses[0]
        #expect(response.status == .ok)
        let expected = events.joined()
        #expect(response.text == expected)
        #expect(response.text.hasPrefix("event: message_start\n"))
        #expect(response.text.hasSuffix("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"))
        #expect(response.bodyParts.count >= 3, "events arrived in \(response.bodyParts.count) part(s)")
    }

    @Test("The caller's Authorization and x-api-key never reach the vendor; the vendor key is set exactly once")
    func callerCredentialsNeverForwarded() async throws {
        let gateway = try await EmbeddedGateway(options: .socketHarness)
        let marker = makeMarker()
        let gatewayKey = gateway.gatewayKey
        // OpenAI SDK style: the gateway key as a bearer token, plus other key headers the vendor must not see.
        var openAI = TestRequest.json(
            "/v1/chat/completions?m=\(marker)", #"{"model":"gpt-4o","messages":[]}"#,
            headers: [
                ("Authorization", "Bearer \(gatewayKey)"), ("authorization", "Bearer gw-caller-secret-1"),
                ("x-api-key", "gw-caller-secret-2"), ("Api-Key", "gw-caller-secret-3"),
            ]
        )
        openAI.credential = .none
        let openAIResponse = try gateway.exchange(openAI)
        #expect(openAIResponse.status == .ok, "\(openAIResponse.text)")
        // Anthropic SDK style: the gateway key in x-api-key, plus a non-bearer Authorization.
        var anthropic = TestRequest.json(
            "/v1/messages?m=\(marker)", #"{"model":"claude-3","max_tokens":1,"messages":[]}"#,
            headers: [
                ("x-api-key", gatewayKey), ("X-Api-Key", "gw-caller-secret-4"),
                ("Authorization", "Basic Z3ctY2FsbGVyLXNlY3JldC01"),
            ]
        )
        anthropic.credential = .none
        let anthropicResponse = try gateway.exchange(anthropic)
        #expect(anthropicResponse.status == .ok, "\(anthropicResponse.text)")

        let received = try gateway.vendor.requests(containing: marker)
        try #require(received.count == 2)
        for request in received {
            for (name, value) in request.headers {
                #expect(!value.contains("gw-caller"), "a caller credential reached the vendor in \(name)")
                #expect(!value.contains(gatewayKey), "the gateway key reached the vendor in \(name)")
                #expect(!value.contains("Z3ctY2FsbGVy"), "the caller's Authorization reached the vendor in \(name)")
            }
        }
        let openAIRequest = try #require(received.first { $0.uri.hasPrefix("/v1/chat/completions") })
        #expect(openAIRequest.headers["authorization"] == [VendorKeys.openAI])
        #expect(openAIRequest.headers["x-api-key"].isEmpty)
        #expect(openAIRequest.headers["api-key"].isEmpty)
        let anthropicRequest = try #require(received.first { $0.uri.hasPrefix("/v1/messages") })
        #expect(anthropicRequest.headers["x-api-key"] == [VendorKeys.anthropic])
        #expect(anthropicRequest.headers["authorization"].isEmpty)
    }

    @Test("Hop-by-hop headers, and any named in Connection, are dropped in both directions")
    func hopByHopRemoved() async throws {
        let gateway = try await EmbeddedGateway(options: .socketHarness)
        let marker = makeMarker()
        let request = TestRequest.json(
            "/v1/chat/completions?m=\(marker)", #"{"model":"gpt-4o","messages":[]}"#,
            headers: [
                ("Connection", "keep-alive, X-Custom"), ("Keep-Alive", "timeout=5"), ("TE", "trailers"),
                ("Upgrade", "websocket"), ("Proxy-Authorization", "Basic cHJveHk6c2VjcmV0"),
                ("Proxy-Connection", "keep-alive"), ("X-Custom", "hop-only"), ("X-Kept", "end-to-end"),
                ("Forwarded", "for=10.1.2.3"), ("X-Forwarded-For", "10.1.2.3"),
            ]
        )
        // The vendor's answer carries FakeVendor's hop-by-hop fields (Keep-Alive, Connection naming X-Vendor-Hop).
        let response = try gateway.exchange(request)
        #expect(response.status == .ok)
        let received = try #require(try gateway.vendor.requests(containing: marker).first)
        for name in ["keep-alive", "te", "upgrade", "proxy-authorization", "proxy-connection", "x-custom",
                     "forwarded", "x-forwarded-for", "transfer-encoding"] {
            #expect(received.headers[name].isEmpty, "\(name) reached the vendor: \(received.headers[name])")
        }
        #expect(received.headers["x-kept"] == ["end-to-end"])
        // The gateway's own connection management toward the vendor, never the caller's list.
        #expect(received.headers["connection"].allSatisfy { !$0.lowercased().contains("x-custom") })
        // Response direction: the vendor's hop-by-hop fields and the one its Connection names stay behind.
        #expect(response.headers["x-vendor-hop"].isEmpty)
        #expect(response.headers["keep-alive"].isEmpty)
        #expect(response.headers["connection"].allSatisfy { !$0.lowercased().contains("x-vendor-hop") })
        #expect(response.headers.first(name: "x-vendor-trace") == "kept")
    }

    @Test("A vendor that breaks mid-stream ends the caller's stream cleanly; the gateway keeps serving")
    func upstreamBreaksMidStream() async throws {
        let gateway = try await EmbeddedGateway(options: .socketHarness)
        let marker = makeMarker()
        try gateway.send(
            .json(
                "/v1/chat/completions?m=\(marker)", #"{"model":"gpt-4o","stream":true,"messages":[]}"#,
                headers: [("x-fake-behavior", "break")]
            )
        )
        let received = try #require(try gateway.vendor.requests(containing: marker).first)
        // What FakeVendor does for `x-fake-behavior: break`: two events, then the connection closes, no last chunk.
        let events = FakeAPI.openAIStream(model: "gpt-4o", events: FakeVendor.defaultEvents)
        try gateway.vendor.answers(
            EmbeddedVendor.streamHead() + EmbeddedVendor.chunk(events[0]) + EmbeddedVendor.chunk(events[1]),
            on: received.connectionID
        )
        gateway.vendor.connections[received.connectionID].close(promise: nil)
        gateway.loop.run()
        let response = try gateway.response()
        #expect(response.status == .ok)
        #expect(response.text == events[0] + events[1], "the caller gets exactly what the vendor sent")
        #expect(!response.text.contains("[DONE]"))
        let next = try gateway.exchange(.json("/v1/chat/completions", #"{"model":"gpt-4o","messages":[]}"#))
        #expect(next.status == .ok)
    }

    @Test("A caller that goes away mid-stream cancels the vendor request")
    func callerLeavingCancelsUpstream() async throws {
        let gateway = try await EmbeddedGateway(options: .socketHarness)
        let marker = makeMarker()
        // A long stream (40 events); the caller gives up after the first five.
        let request = TestRequest.json(
            "/v1/chat/completions?m=\(marker)", #"{"model":"gpt-4o","stream":true,"messages":[]}"#,
            headers: [("x-fake-events", "40")]
        )
        try gateway.send(request)
        let received = try #require(try gateway.vendor.requests(containing: marker).first)
        let vendorConnection = gateway.vendor.connections[received.connectionID]
        let events = FakeAPI.openAIStream(model: "gpt-4o", events: 40)
        try gateway.vendor.answers(
            EmbeddedVendor.streamHead() + events.prefix(5).map(EmbeddedVendor.chunk).joined(), on: received.connectionID
        )
        let partial = try gateway.callerReceived()
        #expect(partial.contains(events[4]))
        #expect(throws: EmbeddedGateway.ResponseError.self, "the response was complete before the caller left") {
            _ = try EmbeddedGateway.responses(in: partial)
        }
        #expect(vendorConnection.isActive)
        gateway.caller.close(promise: nil)
        gateway.loop.run()
        #expect(!vendorConnection.isActive, "the vendor connection stayed open after the caller left")
    }
}
