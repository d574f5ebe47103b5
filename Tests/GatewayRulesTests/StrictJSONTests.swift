import Testing

@testable import GatewayRules

/// Issue 12, defect 1: the one JSON reader accepts only I-JSON (RFC 7493), which every vendor's parser reads the same
/// way. Duplicate member names (after unescaping, at any depth), invalid UTF-8 and lone surrogate escapes are refused
/// as an invalid body (400) instead of being read one way here and another way by the vendor.
@Suite struct StrictJSONTests {
    static func refusal(_ body: [UInt8], contentType: String? = "application/json") -> String? {
        do {
            _ = try TestSupport.inspector.inspect(body: body, contentType: contentType, contentEncoding: nil)
            return nil
        } catch {
            guard case .invalidBody(let why) = error else { return "unexpected \(error)" }
            return why
        }
    }

    static func refusal(_ json: String, contentType: String? = "application/json") -> String? {
        refusal(Array(json.utf8), contentType: contentType)
    }

    @Test func duplicateNamesAreRefusedAtAnyDepth() {
        #expect(Self.refusal(#"{"model":"a","model":"b"}"#)?.contains(#"duplicate member name "model""#) == true)
        #expect(Self.refusal(#"{"model":"a","mod\u0065l":"b"}"#)?.contains("duplicate") == true)
        #expect(Self.refusal(#"{"m":[{"role":"user","content":"x","content":"y"}]}"#)?.contains("duplicate") == true)
        #expect(Self.refusal(#"{"a":{"b":{"c":1,"\u0063":2}}}"#)?.contains("duplicate") == true)
        // The same name in sibling or nested objects is not a duplicate.
        #expect(Self.refusal(#"{"a":{"x":1},"b":{"x":1},"x":{"x":{"x":1}}}"#) == nil)
        // "\/" and "/" are the same name; "A" and "a" are not.
        #expect(Self.refusal(#"{"a/b":1,"a\/b":2}"#)?.contains("duplicate") == true)
        #expect(Self.refusal(#"{"A":1,"a":2}"#) == nil)
    }

    @Test func duplicatesInLargeObjectsAreFoundThroughTheHashIndex() {
        let members = (0..<1000).map { #""k\#($0)":\#($0)"# }
        #expect(Self.refusal("{" + members.joined(separator: ",") + "}") == nil)
        let repeated = members + [#""k50\u0030":1"#]  // "k500" spelled with an escape, after the index was built
        #expect(Self.refusal("{" + repeated.joined(separator: ",") + "}")?.contains(#""k500""#) == true)
    }

    @Test func invalidUTF8AndLoneSurrogatesAreRefused() {
        let prefix = Array(#"{"messages":[{"role":"user","content":"a"#.utf8), suffix = Array(#""}]}"#.utf8)
        for bad: [UInt8] in [[0xFF], [0xC0, 0xAF], [0xE0, 0x80, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xC3]] {
            #expect(Self.refusal(prefix + bad + suffix)?.contains("UTF-8") == true, "bytes \(bad)")
        }
        #expect(Self.refusal(prefix + [0xC3, 0xA9, 0xE2, 0x82, 0xAC, 0xF0, 0x9F, 0x98, 0x80] + suffix) == nil)
        #expect(Self.refusal(#"{"a":"\ud800"}"#)?.contains("surrogate") == true)
        #expect(Self.refusal(#"{"a":"\udc00x"}"#)?.contains("surrogate") == true)
        #expect(Self.refusal(#"{"a":"\ud800\u0041"}"#)?.contains("surrogate") == true)
        #expect(Self.refusal(#"{"\ud83d":"x"}"#)?.contains("surrogate") == true)
        #expect(Self.refusal(#"{"a":"\ud83d\ude00"}"#) == nil)
    }

    @Test func jsonShapedBodiesAreReadAsJSONHoweverLabelled() {
        // Labelled as text or not labelled at all: a vendor still parses it as JSON, so it must be strict JSON.
        #expect(Self.refusal(#"{"model":"a","model":"b"}"#, contentType: "text/plain")?.contains("duplicate") == true)
        #expect(Self.refusal(#"{"model":"a","model":"b"}"#, contentType: nil)?.contains("duplicate") == true)
        // An escaped secret in such a body is decoded and found.
        let escaped = #"{"messages":[{"role":"user","content":"\u0067hp_eyjJEJwHbT4sLvKiNIRYeiPLJXRXz5u9Q9PH"}]}"#
        let decision = try? TestSupport.inspector.inspect(body: Array(escaped.utf8), contentType: "text/plain", contentEncoding: nil)
        #expect(decision?.isBlocked == true)
    }

    @Test func bodiesThatHideJSONOrTextAreRefused() throws {
        // A byte order mark before JSON: read as JSON (as Python's parser does), and the strict reader refuses it.
        #expect(Self.refusal([0xEF, 0xBB, 0xBF] + Array(#"{"a":"b"}"#.utf8), contentType: "text/plain") != nil)
        // UTF-16 JSON, or any text body with NUL bytes, cannot be inspected as text.
        let utf16 = Array(#"{"t":"AKIAL2YY5HLGNUZLUMHX"}"#.utf8).flatMap { (byte: UInt8) -> [UInt8] in [0, byte] }
        for type in ["text/plain", nil] as [String?] {
            #expect(throws: InspectionError.self) {
                _ = try TestSupport.inspector.inspect(body: utf16, contentType: type, contentEncoding: nil)
            }
        }
        // JSON labelled as a form is read as JSON, escapes decoded.
        let escaped = #"{"t":"AKIAL2YY5HLGNUZLUMHX"}"#
        let decision = try TestSupport.inspector.inspect(
            body: Array(escaped.utf8), contentType: "application/x-www-form-urlencoded", contentEncoding: nil
        )
        #expect(decision.isBlocked)
        // A JSON part of a multipart body is read as strictly as a whole body.
        let part = "--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"x.json\"\r\nContent-Type: application/json\r\n\r\n"
            + #"{"a":0,"a":0,"t":"AKIAL2YY5HLGNUZLUMHX"}"# + "\r\n--b--\r\n"
        #expect(Self.refusal(Array(part.utf8), contentType: "multipart/form-data; boundary=b")?.contains("duplicate") == true)
    }

    @Test func requestedTopLevelFieldsComeFromTheSameWalk() throws {
        let inspector = BodyInspector(rules: TestSupport.inspector.rules, fingerprintKey: [1, 2, 3], fieldNames: ["model"])
        let body = #"{"messages":[{"model":"nested"}],"mod\u0065l":"gpt-\u0034o"}"#
        let decision = try inspector.inspect(body: Array(body.utf8), contentType: "application/json", contentEncoding: nil)
        #expect(decision.fields == ["model": "gpt-4o"])
    }
}
