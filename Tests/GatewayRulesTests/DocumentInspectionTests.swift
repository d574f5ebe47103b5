import DocumentFixtures
import Foundation
import GatewayDocuments
import GatewayRules
import Testing

/// Documents on every arrival path of both APIs: found, read, scanned under the category policy, and refused when
/// they cannot be read or rewritten.
@Suite struct DocumentInspectionTests {
    static let key = "AKIAQ3EGKZ7L5WRXH2PD"
    static let ssn = "536-22-8514"
    static let inspector = TestSupport.inspector

    static let secretPDF = PDFWriter(pages: [["Contract", "AWS key \(key) and SSN \(ssn)"]]).bytes()
    static let cleanPDF = PDFWriter(pages: [["Contract", "Delivery on 3 March, payment in 30 days."]]).bytes()

    func json(_ object: Any) -> [UInt8] { Array(try! JSONSerialization.data(withJSONObject: object)) }
    func base64(_ bytes: [UInt8]) -> String { Data(bytes).base64EncodedString() }

    func inspect(_ object: Any, policy: CategoryPolicy = .default) throws -> Decision {
        try Self.inspector.inspect(body: self.json(object), contentType: "application/json", contentEncoding: nil,
                                   policy: policy)
    }

    func blockReason(_ decision: Decision) -> String {
        if case .block(let reason) = decision.verdict { return reason }
        return ""
    }

    func chatFile(_ data: String) -> [String: Any] {
        ["model": "gpt-4o", "messages": [["role": "user", "content": [
            ["type": "text", "text": "summarise"],
            ["type": "file", "file": ["filename": "doc", "file_data": data]],
        ]]]]
    }

    @Test func aPDFInAChatFilePartIsReadAndBlocked() throws {
        let decision = try self.inspect(self.chatFile("data:application/pdf;base64," + self.base64(Self.secretPDF)))
        #expect(decision.isBlocked)
        #expect(self.blockReason(decision).contains("secret/aws_access_key_id at messages[0].content[1].file.file_data › page 1"))
        #expect(!self.blockReason(decision).contains(Self.key))
        #expect(decision.documents.map(\.format) == ["pdf"])
        #expect(decision.documents.first?.pages == 1)
    }

    @Test func theSamePDFAsAnAnthropicDocumentBlockAndAResponsesInputFile() throws {
        let anthropic: [String: Any] = ["model": "claude", "max_tokens": 10, "messages": [["role": "user", "content": [
            ["type": "document", "source": ["type": "base64", "media_type": "application/pdf",
                                            "data": self.base64(Self.secretPDF)]],
        ]]]]
        #expect(try self.inspect(anthropic).isBlocked)
        let responses: [String: Any] = ["model": "gpt-4o", "input": [["role": "user", "content": [
            ["type": "input_file", "filename": "c.pdf", "file_data": "data:application/pdf;base64," + self.base64(Self.secretPDF)],
        ]]]]
        #expect(try self.inspect(responses).isBlocked)
    }

    @Test func cleanDocumentsPassUnchanged() throws {
        let body = self.chatFile("data:application/pdf;base64," + self.base64(Self.cleanPDF))
        let decision = try self.inspect(body)
        guard case .allow = decision.verdict else { Issue.record("a clean PDF was not allowed: \(decision.verdict)"); return }
        #expect(decision.documents.map(\.outcome) == [.inspected])
    }

    @Test func aDOCXAndATextDataURL() throws {
        let docx = OfficeWriter.docx(paragraphs: ["notes", "key \(Self.key)"], splitRuns: true)
        #expect(try self.inspect(self.chatFile("data:application/vnd.openxmlformats-officedocument.wordprocessingml.document;base64,"
            + self.base64(docx))).isBlocked)
        #expect(try self.inspect(self.chatFile("data:text/plain;base64," + self.base64(Array("key \(Self.key)".utf8)))).isBlocked)
    }

    @Test func aTextDocumentIsRewrittenWhereABinaryOneIsBlocked() throws {
        let text = "call Jo at jo@acme.com about the order"
        let decision = try self.inspect(self.chatFile("data:text/plain;base64," + self.base64(Array(text.utf8))))
        guard case .redact(let body, _) = decision.verdict else { Issue.record("not redacted: \(decision.verdict)"); return }
        let object = try JSONSerialization.jsonObject(with: Data(body)) as! [String: Any]
        let part = ((object["messages"] as! [[String: Any]])[0]["content"] as! [[String: Any]])[1]
        let url = (part["file"] as! [String: Any])["file_data"] as! String
        #expect(url.hasPrefix("data:text/plain;base64,"))
        let decoded = String(decoding: Data(base64Encoded: String(url.dropFirst("data:text/plain;base64,".count)))!, as: UTF8.self)
        #expect(decoded == "call Jo at [EMAIL_1] about the order")
        #expect(decision.documents.map(\.outcome) == [.rewritten])

        let pdf = PDFWriter(pages: [[text]]).bytes()
        let binary = try self.inspect(self.chatFile("data:application/pdf;base64," + self.base64(pdf)))
        #expect(binary.isBlocked)
        #expect(self.blockReason(binary).contains("cannot be redacted in place: pii/email at"))
        #expect(!self.blockReason(binary).contains("jo@acme.com"))
    }

    @Test func imagesAndRemoteFilesAreUninspectableUnlessTheRoleSaysSo() throws {
        let png = try #require(PDFWriterPNG.page())
        let image: [String: Any] = ["model": "gpt-4o", "messages": [["role": "user", "content": [
            ["type": "image_url", "image_url": ["url": "data:image/png;base64," + self.base64(png)]],
        ]]]]
        let blocked = try self.inspect(image)
        #expect(blocked.isBlocked)
        #expect(self.blockReason(blocked).contains("without OCR"))
        var open = CategoryPolicy.default
        open.allowUninspected = true
        let allowed = try self.inspect(image, policy: open)
        #expect(!allowed.isBlocked)
        #expect(allowed.forwardsUninspected)

        let remote: [String: Any] = ["model": "gpt-4o", "input": [["role": "user", "content": [
            ["type": "input_file", "file_url": "https://files.example.test/contract.pdf"],
        ]]]]
        #expect(try self.inspect(remote).isBlocked)
        #expect(try self.inspect(remote, policy: open).documents.map(\.outcome) == [.uninspected])
        // A URL in ordinary text is text, not a file the vendor fetches.
        #expect(!(try self.inspect(["model": "m", "messages": [["role": "user", "content": "see https://example.test/x"]]]).isBlocked))
    }

    @Test func aBase64StringAnywhereIsReadWhenItIsTextOrADocument() throws {
        let hidden = self.base64(Array("config: aws_access_key_id = \(Self.key) for the batch job".utf8))
        #expect(try self.inspect(["model": "m", "metadata": ["blob": hidden]]).isBlocked)
        // Base64 of noise (a hash, an embedding) is not a document and not a finding.
        let noise = self.base64((0..<96).map { UInt8(($0 * 73 + 11) % 256) })
        #expect(!(try self.inspect(["model": "m", "metadata": ["blob": noise]]).isBlocked))
    }

    static func multipart(_ parts: [(headers: String, content: [UInt8])]) -> [UInt8] {
        var body: [UInt8] = []
        for part in parts {
            body += Array("--XyZ\r\n\(part.headers)\r\n\r\n".utf8) + part.content + Array("\r\n".utf8)
        }
        return body + Array("--XyZ--\r\n".utf8)
    }

    func upload(_ content: [UInt8], name: String, type: String, purpose: String = "assistants") throws -> Decision {
        let body = Self.multipart([
            ("Content-Disposition: form-data; name=\"purpose\"", Array(purpose.utf8)),
            ("Content-Disposition: form-data; name=\"file\"; filename=\"\(name)\"\r\nContent-Type: \(type)", content),
        ])
        return try Self.inspector.inspect(body: body, contentType: "multipart/form-data; boundary=XyZ", contentEncoding: nil)
    }

    @Test func uploadsAreReadByTheirBytesNotTheirNames() throws {
        #expect(try self.upload(Self.secretPDF, name: "notes.txt", type: "text/plain").isBlocked)
        #expect(try self.upload(Array("name,key\nops,\(Self.key)\n".utf8), name: "upload", type: "application/octet-stream").isBlocked)
        let email = MailWriter.message(subject: "hi", text: "key \(Self.key)")
        #expect(try self.upload(email, name: "m.eml", type: "message/rfc822").isBlocked)
        #expect(!(try self.upload(Self.cleanPDF, name: "c.pdf", type: "application/pdf").isBlocked))
    }

    @Test func batchFilesAreReadLineByLineAsRequests() throws {
        let leaking = #"{"custom_id":"1","method":"POST","url":"/v1/chat/completions","body":{"model":"m","messages":[{"role":"user","content":"key \#(Self.key)"}]}}"#
        let personal = #"{"custom_id":"2","method":"POST","url":"/v1/chat/completions","body":{"model":"m","messages":[{"role":"user","content":"mail jo@acme.com"}]}}"#
        let blocked = try self.upload(Array((personal + "\n" + leaking + "\n").utf8), name: "batch.jsonl",
                                      type: "application/jsonl", purpose: "batch")
        #expect(blocked.isBlocked)
        #expect(self.blockReason(blocked).contains("line 2"))
        let redacted = try self.upload(Array((personal + "\n").utf8), name: "batch.jsonl", type: "application/jsonl",
                                       purpose: "batch")
        guard case .redact(let body, _) = redacted.verdict else { Issue.record("not redacted"); return }
        let text = String(decoding: body, as: UTF8.self)
        #expect(text.contains(#""content":"mail [EMAIL_1]""#))
        #expect(!text.contains("jo@acme.com"))
    }

    @Test func bombsAndEncryptedFilesAreRefusedAndTheLimitNamed() throws {
        var zip = ZipWriter()
        zip.add("zeros.csv", bytes: [UInt8](repeating: 0x30, count: 30 << 20))
        let bomb = try self.upload(zip.bytes(), name: "data.zip", type: "application/zip")
        #expect(bomb.isBlocked)
        #expect(bomb.documents.first?.limitsHit == ["compression_ratio"])
        var encrypted = PDFWriter(pages: [["x"]])
        encrypted.encrypted = true
        let refused = try self.upload(encrypted.bytes(), name: "e.pdf", type: "application/pdf")
        #expect(self.blockReason(refused).contains("encrypted"))
    }
}

extension DocumentInspectionTests {
    @Test func aValueAlsoHiddenInAnEncodedPartIsNotCoveredByTheRewrite() throws {
        // The address in plain text in the header and again in a base64 part: rewriting the plain one would leave
        // the other for any mail reader to decode.
        let message = MailWriter.message(subject: "from jo@acme.com", text: "nothing here",
                                         attachments: [("n.txt", "text/plain", Array("write to jo@acme.com".utf8))])
        let decision = try self.upload(message, name: "m.eml", type: "message/rfc822")
        #expect(decision.isBlocked)
        #expect(self.blockReason(decision).contains("encoded form"))
        // A message whose addresses appear only as written is rewritten.
        let plain = Array("From: a@example.test\r\nTo: jo@acme.com\r\nSubject: hi\r\n\r\nhello\r\n".utf8)
        guard case .redact(let body, _) = try self.upload(plain, name: "p.eml", type: "message/rfc822").verdict else {
            Issue.record("a plain message was not rewritten"); return
        }
        #expect(!String(decoding: body, as: UTF8.self).contains("jo@acme.com"))
    }

    @Test func dataURLsAndFileFieldsHoweverWritten() throws {
        // Upper-case scheme, spaces around parameters, a stray character in the base64.
        var b64 = self.base64(Self.secretPDF)
        b64.insert("*", at: b64.index(b64.startIndex, offsetBy: 40))
        #expect(try self.inspect(self.chatFile("DATA:application/pdf ; base64," + b64)).isBlocked)
        // A remote file in capitals is still a remote file.
        let remote: [String: Any] = ["model": "m", "input": [["role": "user", "content": [
            ["type": "input_file", "file_url": "HTTPS://files.example.test/c.pdf"]]]]]
        #expect(try self.inspect(remote).isBlocked)
        // Base64 of a legacy Office file or of audio in a file field cannot be read: refused, not taken for noise.
        let ole = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1] + (0..<400).map { UInt8($0 % 251) }
        let anthropic: [String: Any] = ["model": "claude", "max_tokens": 5, "messages": [["role": "user", "content": [
            ["type": "document", "source": ["type": "base64", "media_type": "application/msword", "data": self.base64(ole)]],
        ]]]]
        #expect(try self.inspect(anthropic).isBlocked)
        let wave = Array("RIFF".utf8) + [0, 0, 0, 0] + Array("WAVEfmt ".utf8) + (0..<400).map { UInt8($0 % 7) }
        let audio: [String: Any] = ["model": "gpt-4o-audio-preview", "messages": [["role": "user", "content": [
            ["type": "input_audio", "input_audio": ["data": self.base64(wave), "format": "wav"]],
        ]]]]
        #expect(try self.inspect(audio).isBlocked)
        // A hash in hex under a `data` key is no file.
        #expect(!(try self.inspect(["model": "m", "data": String(repeating: "ab12", count: 16)]).isBlocked))
    }

    @Test func aPartNamedWithFilenameStarOrHoldingBinaryIsAFile() throws {
        let body = Self.multipart([
            ("Content-Disposition: form-data; name=\"file\"; filename*=utf-8''notes%20q3.txt", Self.secretPDF),
        ])
        let decision = try Self.inspector.inspect(body: body, contentType: "multipart/form-data; boundary=XyZ",
                                                  contentEncoding: nil)
        #expect(decision.isBlocked)
        #expect(decision.documents.first?.location == "multipart:file (notes q3.txt)")
        let binary = Self.multipart([("Content-Disposition: form-data; name=\"blob\"", [0, 1, 2, 3, 0xFF, 0xFE])])
        #expect(try Self.inspector.inspect(body: binary, contentType: "multipart/form-data; boundary=XyZ",
                                           contentEncoding: nil).isBlocked)
    }
}

/// A PNG of a rendered page (an image with text in it), made with the gateway's own PDF renderer.
enum PDFWriterPNG {
    static func page() -> [UInt8]? {
        let pdf = PDFWriter(pages: [["text in a picture"]]).bytes()
        return DocumentRendering.png(ofPage: 0, in: pdf)
    }
}
