import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Testing

extension GatewayIntegration {
    @Suite("Admin listener")
    struct Admin {
        @Test("healthz and readyz answer, and /metrics counts requests by provider, role, status and decision")
        func endpoints() async throws {
            try await GatewayHarness.run { gateway in
                #expect(try await Self.get(gateway, "/healthz").status == 200)
                #expect(try await Self.get(gateway, "/readyz").status == 200)
                _ = try await gateway.client.send(.json("/v1/chat/completions", #"{"model":"gpt-4o","messages":[]}"#))
                _ = try await gateway.client.send(
                    .json("/v1/chat/completions", #"{"model":"gpt-4o","messages":[{"role":"user","content":"AKIAL2YY5HLGNUZLUMHX"}]}"#)
                )
                let metrics = try await Self.get(gateway, "/metrics")
                #expect(metrics.status == 200)
                #expect(metrics.body.contains(#"gateway_requests_total{provider="openai",role="engineer",status="200",decision="allow"} 1"#))
                #expect(metrics.body.contains(#"gateway_requests_total{provider="openai",role="engineer",status="403",decision="block"} 1"#))
                #expect(metrics.body.contains("gateway_request_duration_seconds_bucket"))
                #expect(metrics.body.contains("gateway_open_connections"))
                // Both requests' records were made durable before they were answered: at least one batch, two lines.
                #expect((Self.value(of: "gateway_audit_batches_total", in: metrics.body) ?? 0) >= 1)
                #expect((Self.value(of: "gateway_audit_lines_total", in: metrics.body) ?? 0) >= 2)
                #expect(
                    Self.value(of: "gateway_audit_commit_duration_seconds_count", in: metrics.body)
                        == Self.value(of: "gateway_audit_batches_total", in: metrics.body)
                )
                #expect(try await Self.get(gateway, "/nothing").status == 404)
            }
        }

        /// The value of an unlabelled sample in Prometheus text, or nil when it is not there.
        static func value(of sample: String, in text: String) -> Double? {
            text.split(separator: "\n").lazy
                .first { $0.hasPrefix(sample + " ") }
                .flatMap { Double($0.dropFirst(sample.count + 1)) }
        }

        /// GET on the admin listener.
        static func get(_ gateway: GatewayHarness, _ path: String) async throws -> (status: Int, body: String) {
            let channel = try await ClientBootstrap(group: GatewayHarness.group)
                .connect(host: "127.0.0.1", port: gateway.ports.admin) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(wrappingChannelSynchronously: channel)
                    }
                }
            return try await channel.executeThenClose { inbound, outbound in
                var headers = HTTPHeaders()
                headers.add(name: "Host", value: "127.0.0.1")
                try await outbound.write(.head(HTTPRequestHead(version: .http1_1, method: .GET, uri: path, headers: headers)))
                try await outbound.write(.end(nil))
                var status = 0
                var body = ""
                for try await part in inbound {
                    switch part {
                    case .head(let head): status = Int(head.status.code)
                    case .body(let buffer): body += String(buffer: buffer)
                    case .end: return (status, body)
                    }
                }
                return (status, body)
            }
        }
    }
}
