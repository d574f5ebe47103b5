import Foundation
import GatewayRules
import Testing

/// Fail-closed behaviour: engine limits, deadlines, bombs, encodings and content types.
@Suite struct LimitsAndBodyTests {
    static let backtrackingRules: RuleSet = {
        let yaml = """
            rules:
              - id: evil
                category: secret
                type: thing
                pattern: '^(a|aa)+$'
                examples: {match: ['aaaaaa']}
            """
        do { return try RuleLoader.load(files: [("evil.yaml", yaml)]) } catch { fatalError("\(error)") }
    }()

    @Test func catastrophicBacktrackingIsCutOffAndBlocks() {
        let inspector = BodyInspector(rules: Self.backtrackingRules, fingerprintKey: TestSupport.fingerprintKey)
        let input = String(repeating: "a", count: 5000) + "!"
        do {
            _ = try inspector.inspect(text: input)
            Issue.record("a pathological match finished instead of hitting the limit")
        } catch {
            guard case .engineFailure(let rule, let pcre) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(rule == "evil")
            if case .limitExceeded = pcre {} else { Issue.record("expected a limit error, got \(pcre)") }
        }
        // The same shared rule set keeps working for ordinary input afterwards.
        #expect((try? inspector.inspect(text: "aaaaaa"))?.isBlocked == true)
        #expect((try? inspector.inspect(text: "bbbbbb"))?.isBlocked == false)
    }

    @Test func passedDeadlineBlocks() {
        let body = Array(#"{"messages":[{"role":"user","content":"hello there"}]}"#.utf8)
        #expect(throws: InspectionError.deadlineExceeded) {
            try TestSupport.inspector.inspect(body: body, contentType: "application/json", contentEncoding: nil,
                                              deadline: .at(ContinuousClock.now - .seconds(1)))
        }
    }

    @Test func gzipBombIs413() {
        let bomb = Gzip.compress([UInt8](repeating: 0x20, count: 64 << 20), level: 9)
        do {
            _ = try TestSupport.inspector.inspect(body: bomb, contentType: "application/json", contentEncoding: "gzip")
            Issue.record("bomb inflated")
        } catch {
            guard case .tooLarge = error else {
                Issue.record("unexpected \(error)")
                return
            }
        }
    }

    @Test func gzipBodyIsInspectedAndRedactedUncompressed() throws {
        let json = #"{"messages":[{"role":"user","content":"mail jo@acme.com"}]}"#
        let decision = try TestSupport.inspector.inspect(body: Gzip.compress(Array(json.utf8)),
                                                         contentType: "application/json", contentEncoding: "gzip")
        guard case .redact(let body, let dropped) = decision.verdict else {
            Issue.record("expected redact")
            return
        }
        #expect(dropped)
        #expect(String(decoding: body, as: UTF8.self) == #"{"messages":[{"role":"user","content":"mail [EMAIL_1]"}]}"#)
        let secret = #"{"t":"ghp_eyjJEJwHbT4sLvKiNIRYeiPLJXRXz5u9Q9PH"}"#
        let blocked = try TestSupport.inspector.inspect(body: Gzip.compress(Array(secret.utf8)),
                                                        contentType: "application/json", contentEncoding: "gzip")
        #expect(blocked.isBlocked)
    }

    @Test func corruptGzipIs400AndUnknownEncodingIs415() {
        do {
            _ = try TestSupport.inspector.inspect(body: [0x1f, 0x8b, 1, 2, 3], contentType: "application/json", contentEncoding: "gzip")
            Issue.record("corrupt gzip accepted")
        } catch {
            guard case .invalidBody = error else { Issue.record("unexpected \(error)"); return }
        }
        do {
            _ = try TestSupport.inspector.inspect(body: [1, 2], contentType: "application/json", contentEncoding: "br")
            Issue.record("br accepted")
        } catch { #expect(error == .unsupportedEncoding("br")) }
    }

    @Test func oversizedBodyIs413() {
        let small = BodyInspector(rules: TestSupport.defaultRules, fingerprintKey: TestSupport.fingerprintKey,
                                  limits: BodyLimits(maximumBodyBytes: 10))
        #expect(throws: InspectionError.self) { try small.inspect(text: "01234567890123") }
    }

    @Test func plainTextIsScanned() throws {
        let decision = try TestSupport.inspector.inspect(body: Array("call +44 20 7946 0958".utf8), contentType: "text/plain",
                                                         contentEncoding: nil)
        guard case .redact(let body, _) = decision.verdict else {
            Issue.record("expected redact")
            return
        }
        #expect(String(decoding: body, as: UTF8.self) == "call [PHONE_1]")
    }

    static func multipart(_ parts: [(headers: String, body: String)]) -> [UInt8] {
        var text = ""
        for part in parts { text += "--XyZ\r\n\(part.headers)\r\n\r\n\(part.body)\r\n" }
        text += "--XyZ--\r\n"
        return Array(text.utf8)
    }

    @Test func multipartTextFieldsAndTextFilesAreScanned() throws {
        let body = Self.multipart([
            ("Content-Disposition: form-data; name=\"purpose\"", "fine-tune"),
            ("Content-Disposition: form-data; name=\"file\"; filename=\"notes.csv\"\r\nContent-Type: text/csv", "name,email\njo,jo@acme.com"),
        ])
        let decision = try TestSupport.inspector.inspect(body: body, contentType: "multipart/form-data; boundary=XyZ",
                                                         contentEncoding: nil)
        guard case .redact(let out, _) = decision.verdict else {
            Issue.record("expected redact, got \(decision.verdict)")
            return
        }
        let text = String(decoding: out, as: UTF8.self)
        #expect(text.contains("name,email\njo,[EMAIL_1]\r\n--XyZ--"))
        #expect(decision.findings.first?.location == "multipart:file (notes.csv)")
    }

    /// Found by `fuzz/run fuzz-multipart` (issue 12): a part without header fields trapped the process.
    @Test func multipartPartWithoutHeadersIsInspectedNotATrap() throws {
        let body = Array("--fuzzboundary\r\n\r\nmail jo@acme.com\r\n--fuzzboundary--\r\n".utf8)
        let decision = try TestSupport.inspector.inspect(
            body: body, contentType: "multipart/form-data; boundary=fuzzboundary", contentEncoding: nil
        )
        guard case .redact(let out, _) = decision.verdict else {
            Issue.record("expected redact, got \(decision.verdict)")
            return
        }
        #expect(String(decoding: out, as: UTF8.self) == "--fuzzboundary\r\n\r\nmail [EMAIL_1]\r\n--fuzzboundary--\r\n")
    }

    @Test func multipartBinaryFilesAreBlockedUnlessAllowed() throws {
        let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13]
        let body = DocumentInspectionTests.multipart([
            ("Content-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\nContent-Type: image/png", png),
        ])
        let blocked = try TestSupport.inspector.inspect(body: body, contentType: "multipart/form-data; boundary=XyZ",
                                                        contentEncoding: nil)
        #expect(blocked.isBlocked)
        var policy = CategoryPolicy.default
        policy.allowUninspected = true
        let allowed = try TestSupport.inspector.inspect(body: body, contentType: "multipart/form-data; boundary=XyZ",
                                                        contentEncoding: nil, policy: policy)
        #expect(!allowed.isBlocked)
        #expect(allowed.forwardsUninspected)
    }

    @Test func binaryBodiesAreBlockedAndUnknownTypesSniffed() throws {
        // Bytes of no known format cannot be inspected: blocked, and the decision says which document and why.
        let binary = try TestSupport.inspector.inspect(body: [0, 1, 2, 0xff], contentType: "application/octet-stream",
                                                       contentEncoding: nil)
        #expect(binary.isBlocked)
        #expect(binary.documents.map(\.outcome) == [.refused])
        let sniffed = try TestSupport.inspector.inspect(body: Array(#"{"a":"ghp_eyjJEJwHbT4sLvKiNIRYeiPLJXRXz5u9Q9PH"}"#.utf8),
                                                        contentType: nil, contentEncoding: nil)
        #expect(sniffed.isBlocked)
    }
}
