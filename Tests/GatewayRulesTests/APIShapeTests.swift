import Foundation
import GatewayRules
import Testing

/// Every string of every known API shape is scanned, with the right JSON path.
@Suite struct APIShapeTests {
    static let email = "jo.smith@acme-widgets.com"

    func locations(_ json: String) throws -> [String] {
        let decision = try TestSupport.inspector.inspect(body: Array(json.utf8), contentType: "application/json",
                                                         contentEncoding: nil)
        return decision.findings.filter { $0.type == "email" }.map(\.location)
    }

    @Test func chatMessagesStringAndParts() throws {
        let json = """
            {"model":"gpt-4o","messages":[{"role":"system","content":"hi"},
            {"role":"user","content":"mail \(Self.email)"},
            {"role":"user","content":[{"type":"text","text":"again \(Self.email)"}]}],"user":"\(Self.email)"}
            """
        #expect(try locations(json) == ["messages[1].content", "messages[2].content[0].text", "user"])
    }

    @Test func toolsToolCallsAndToolResults() throws {
        let arguments = #"{\"to\":\"\#(Self.email)\"}"#
        let json = """
            {"messages":[{"role":"assistant","tool_calls":[{"id":"c1","type":"function",
            "function":{"name":"send","arguments":"\(arguments)"}}]},
            {"role":"tool","tool_call_id":"c1","content":"sent to \(Self.email)"}],
            "tools":[{"type":"function","function":{"name":"send","description":"default \(Self.email)"}}]}
            """
        #expect(try locations(json) == [
            "messages[0].tool_calls[0].function.arguments", "messages[1].content", "tools[0].function.description",
        ])
    }

    @Test func anthropicSystemToolResultAndMetadata() throws {
        let json = """
            {"model":"claude","system":[{"type":"text","text":"ops \(Self.email)"}],
            "messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":[{"type":"text","text":"\(Self.email)"}]}]}],
            "metadata":{"user_id":"ticket \(Self.email)"}}
            """
        #expect(try locations(json) == [
            "system[0].text", "messages[0].content[0].content[0].text", "metadata.user_id",
        ])
    }

    @Test func responsesAndEmbeddings() throws {
        let responses = """
            {"model":"gpt-4.1","instructions":"cc \(Self.email)","input":[{"role":"user","content":[{"type":"input_text","text":"\(Self.email)"}]}]}
            """
        #expect(try locations(responses) == ["instructions", "input[0].content[0].text"])
        let embeddings = #"{"model":"e","input":["a", "b \#(Self.email)"]}"#
        #expect(try locations(embeddings) == ["input[1]"])
    }

    @Test func unknownShapesKeysAndDeepNesting() throws {
        let json = #"{"x":{"y":[[{"z":"\#(Self.email)"}]]},"\#(Self.email)":1, "we ird":["\#(Self.email)"]}"#
        #expect(try locations(json) == ["x.y[0][0].z", "[\"\(Self.email)\"] (key)", "[\"we ird\"][0]"])
    }

    @Test func escapesAreDecodedBeforeScanning() throws {
        let json = #"{"t":"key \u0067\u0068\u0070_eyjJEJwHbT4sLvKiNIRYeiPLJXRXz5u9Q9PH"}"#
        let decision = try TestSupport.inspector.inspect(body: Array(json.utf8), contentType: "application/json",
                                                         contentEncoding: nil)
        #expect(decision.isBlocked)
        #expect(decision.findings.map(\.type) == ["github_token"])
    }

    @Test func invalidJSONIs400() {
        for bad in [#"{"a":}"#, #"{"a":"b""#, #"[1,2"#, #"{"a":"\x"}"#, "{\"a\":\"\u{01}\"}", #"{"a":1} x"#, ""] {
            #expect(throws: InspectionError.self) {
                try TestSupport.inspector.inspect(body: Array(bad.utf8), contentType: "application/json", contentEncoding: nil)
            }
            do {
                _ = try TestSupport.inspector.inspect(body: Array(bad.utf8), contentType: "application/json", contentEncoding: nil)
            } catch {
                guard case .invalidBody = error else { Issue.record("unexpected \(error)"); return }
            }
        }
    }

    @Test func cleanBodiesAreForwardedByteIdentical() throws {
        let json = "{ \"model\" : \"gpt\",\n \"messages\": [ {\"role\":\"user\", \"content\": \"caf\\u00e9 v1.2.3 2025-01-02\"} ] , \"n\": -1.5e3 }"
        let body = Array(json.utf8)
        let decision = try TestSupport.inspector.inspect(body: body, contentType: "application/json; charset=utf-8",
                                                         contentEncoding: nil)
        guard case .allow = decision.verdict else {
            Issue.record("expected allow")
            return
        }
        #expect(decision.forwardedBody(original: body) == body)
    }
}
