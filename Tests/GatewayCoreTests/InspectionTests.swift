import Foundation
import NIOHTTP1
import Testing

/// Body inspection before forwarding, in memory (`EmbeddedGateway` with the socket harness's configuration): the
/// error shapes are checked by `GatewayIntegration.Errors`' helpers.
@Suite("Body inspection before forwarding (EmbeddedGateway)", .timeLimit(.minutes(1)))
struct InspectionTests {
    typealias Shapes = GatewayIntegration.Errors
    /// An AWS access key id that is not one of the documented example keys the rule pack allows.
    static let awsKey = "AKIAL2YY5HLGNUZLUMHX"

    @Test("A secret in a message is blocked with 403 (in each vendor's shape) and never reaches the vendor")
    func secretBlocked() async throws {
        let gateway = try await EmbeddedGateway(options: .socketHarness)
        let marker = makeMarker()
        let openAI = try gateway.exchange(
            .json(
                "/v1/chat/completions?m=\(marker)",
                #"{"model":"gpt-4o","messages":[{"role":"user","content":"deploy with aws_access_key_id = \#(Self.awsKey) please"}]}"#
            )
        )
        #expect(openAI.status == .forbidden)
        Shapes.expectOpenAIShape(openAI, type: "permission_error", code: "sensitive_data_blocked")
        #expect(!openAI.text.contains(Self.awsKey), "the error echoes the secret")

        let anthropic = try gateway.exchange(
            .json(
                "/v1/messages?m=\(marker)",
                #"{"model":"claude-3","max_tokens":5,"stream":true,"messages":[{"role":"user","content":"key \#(Self.awsKey)"}]}"#
            )
        )
        #expect(anthropic.status == .forbidden)
        Shapes.expectAnthropicShape(anthropic, type: "permission_error")

        #expect(try gateway.vendor.requests(containing: marker).isEmpty)
        #expect(try !gateway.vendor.requests.contains { $0.contains(Self.awsKey) }, "the secret reached the vendor")
        // The same connection-level path still works for clean requests.
        let clean = try gateway.exchange(.json("/v1/chat/completions?m=\(marker)", #"{"model":"gpt-4o","messages":[]}"#))
        #expect(clean.status == .ok)
    }

    @Test("An e-mail address is redacted before the body reaches the vendor")
    func emailRedacted() async throws {
        let gateway = try await EmbeddedGateway(options: .socketHarness)
        let marker = makeMarker()
        let email = "jane.doe@acme-widgets.co.uk"
        let response = try gateway.exchange(
            .json(
                "/v1/chat/completions?m=\(marker)",
                #"{"model":"gpt-4o","messages":[{"role":"user","content":"Reply to \#(email) about the invoice."}]}"#
            )
        )
        #expect(response.status == .ok)
        let received = try #require(try gateway.vendor.requests(containing: marker).first)
        #expect(!received.bodyText.contains(email), "the e-mail address reached the vendor: \(received.bodyText)")
        #expect(!received.bodyText.contains("jane.doe"))
        #expect(received.bodyText.contains("[EMAIL"), "no placeholder where the address was: \(received.bodyText)")
        #expect(received.bodyText.contains("Reply to "), "the rest of the message is kept: \(received.bodyText)")
        #expect(received.bodyText.contains("about the invoice."))
        // Still valid JSON with the same structure, and the length header matches the rewritten body.
        let json = try #require((try? JSONSerialization.jsonObject(with: Data(received.body))) as? [String: Any])
        #expect(json["model"] as? String == "gpt-4o")
        #expect(received.headers["content-length"] == [String(received.body.count)])
    }
}
