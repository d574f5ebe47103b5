import Foundation
import DocumentFixtures
@testable import GatewayDocuments
import Testing

/// What each format yields, where, and what makes a document uninspectable. Documents are written at test time.
@Suite struct ExtractionTests {
    static let key = "AKIAQ3EGKZ7L5WRXH2PD"
    let extractor = DocumentExtractor()

    func extract(_ bytes: [UInt8], name: String? = nil, type: String? = nil, limits: DocumentLimits = .default,
                 extractor: DocumentExtractor? = nil) throws(DocumentError) -> ExtractedDocument
    {
        try (extractor ?? self.extractor).extract(bytes, declaredType: type, filename: name,
                                                  budget: ExtractionBudget(limits: limits))
    }

    func text(_ document: ExtractedDocument, at location: String) -> String {
        document.texts.filter { $0.location.hasPrefix(location) }.map { String(decoding: $0.text, as: UTF8.self) }
            .joined(separator: "\n")
    }

    @Test func pdfPagesAnnotationsFormFieldsAndMetadata() throws {
        var writer = PDFWriter(pages: [["Quarterly report", "nothing here"], ["contact key \(Self.key)"]])
        writer.info = ["Title": "Plan", "Keywords": "ssn 536-22-8514"]
        writer.annotation = "reviewer note: token in annotation"
        writer.formField = (name: "account", value: "form value 4111")
        let document = try self.extract(writer.bytes())
        #expect(document.format == .pdf)
        #expect(document.pages == 2)
        #expect(self.text(document, at: "page 2").contains(Self.key))
        #expect(!self.text(document, at: "page 1").contains(Self.key))
        #expect(self.text(document, at: "page 1 annotations").contains("token in annotation"))
        #expect(self.text(document, at: "page 1 annotations").contains("account: form value 4111"))
        #expect(self.text(document, at: "metadata").contains("536-22-8514"))
        #expect(document.unreadable.isEmpty)
    }

    @Test func compressedPDFStreamsAreRead() throws {
        var writer = PDFWriter(pages: [["inside a deflated stream \(Self.key)"]])
        writer.compress = true
        #expect(self.text(try self.extract(writer.bytes()), at: "page 1").contains(Self.key))
    }

    @Test func encryptedDamagedAndBombPDFsAreUninspectable() {
        var encrypted = PDFWriter(pages: [["secret"]])
        encrypted.encrypted = true
        #expect(throws: DocumentError.encrypted) { try self.extract(encrypted.bytes()) }

        let whole = PDFWriter(pages: [["a page"]]).bytes()
        #expect(throws: DocumentError.self) { try self.extract(Array(whole.prefix(whole.count / 2))) }

        let bomb = PDFWriter.streamBomb(bytes: 40 << 20)
        do {
            _ = try self.extract(bomb)
            Issue.record("a 40 MiB stream bomb was read")
        } catch {
            guard case .limitExceeded(let limit, _) = error else { Issue.record("\(error)"); return }
            #expect(limit == "compression_ratio")
        }
    }

    @Test func tooManyPagesIsALimit() {
        let writer = PDFWriter(pages: Array(repeating: ["page"], count: 5))
        var limits = DocumentLimits.default
        limits.maximumPages = 4
        #expect(throws: DocumentError.limitExceeded(limit: "pages", detail: "5 pages, more than 4")) {
            try self.extract(writer.bytes(), limits: limits)
        }
    }

    @Test func aPageOfImagesIsUnreadableWithoutOCR() throws {
        var writer = PDFWriter(pages: [["text page"]])
        writer.imageOnlyPage = true
        let document = try self.extract(writer.bytes())
        #expect(document.unreadable.map(\.location) == ["page 2 images"])
    }

    @Test(.enabled(if: TesseractReader().isAvailable)) func ocrReadsTextInImages() throws {
        let page = PDFWriter(pages: [["", "", "", "ACCESS KEY \(Self.key)"]]).bytes()
        let png = try #require(PDFText.renderPage(page, index: 0, dpi: 200))
        #expect(FormatSniffer.detect(png) == .png)
        #expect(throws: DocumentError.self) { try self.extract(png) }  // no reader: unreadable
        let reader = DocumentExtractor(imageReader: TesseractReader())
        let document = try self.extract(png, extractor: reader)
        #expect(self.text(document, at: "image text").contains(Self.key))
    }

    @Test func officeDocumentsYieldEveryPart() throws {
        let docx = try self.extract(OfficeWriter.docx(
            paragraphs: ["Meeting notes", "key \(Self.key) end"], header: "header ssn 536-22-8514",
            footer: "footer text", comment: "comment mail jo@acme.com", author: "Jane Roe", splitRuns: true))
        #expect(docx.format == .docx)
        #expect(self.text(docx, at: "body").contains(Self.key), "runs of 4 characters are read as one word")
        #expect(self.text(docx, at: "header").contains("536-22-8514"))
        #expect(self.text(docx, at: "footer").contains("footer text"))
        #expect(self.text(docx, at: "comments").contains("jo@acme.com"))
        #expect(self.text(docx, at: "document properties").contains("Jane Roe"))

        let xlsx = try self.extract(OfficeWriter.xlsx(shared: ["name", "Jo Bloggs"], cells: ["ssn", "536-22-8514"]))
        #expect(xlsx.format == .xlsx)
        #expect(self.text(xlsx, at: "shared strings").contains("Jo Bloggs"))
        #expect(self.text(xlsx, at: "sheet 1").contains("536-22-8514"))

        let pptx = try self.extract(OfficeWriter.pptx(slide: "Roadmap", notes: "speaker: key \(Self.key)"))
        #expect(pptx.format == .pptx)
        #expect(self.text(pptx, at: "slide notes").contains(Self.key))
    }

    @Test func zipBombsMemberFloodsAndDeepNestingAreLimits() {
        var bomb = ZipWriter()
        bomb.add("zeros.txt", bytes: [UInt8](repeating: 0x30, count: 30 << 20))
        #expect(throws: DocumentError.limitExceeded(limit: "compression_ratio", detail: "expands more than 200:1 (a bomb)")) {
            try self.extract(bomb.bytes())
        }
        var flood = ZipWriter()
        for index in 0..<30 { flood.add("f\(index).txt", "x", deflate: false) }
        var limits = DocumentLimits.default
        limits.maximumArchiveMembers = 20
        #expect(throws: DocumentError.self) { try self.extract(flood.bytes(), limits: limits) }

        var inner = ZipWriter()
        inner.add("deep.txt", "key \(Self.key)")
        var nested = inner.bytes()
        for level in 0..<4 {
            var outer = ZipWriter()
            outer.add("level\(level).zip", bytes: nested)
            nested = outer.bytes()
        }
        limits = .default
        limits.maximumNestingDepth = 3
        let document = try? self.extract(nested, limits: limits)
        #expect(document?.unreadable.count == 1)
        #expect(document?.texts.contains { String(decoding: $0.text, as: UTF8.self).contains(Self.key) } == false)
    }

    @Test func emailPartsAreDecodedAndAttachmentsRead() throws {
        let message = MailWriter.message(
            subject: "=?utf-8?B?" + "cmVwb3J0IDUzNi0yMi04NTE0" + "?=",  // "report 536-22-8514"
            text: "the key is \(Self.key), thanks",
            html: "<p>mail me: jo&#64;acme&period;com</p>",
            attachments: [("notes.docx", "application/octet-stream", OfficeWriter.docx(paragraphs: ["attached 536-22-8514"]))])
        let document = try self.extract(message, name: "message.txt")
        #expect(document.format == .email)
        #expect(self.text(document, at: "headers").contains("report 536-22-8514"))
        #expect(self.text(document, at: "part 1").contains(Self.key))
        #expect(self.text(document, at: "part 2").contains("jo@acme.com"))
        #expect(self.text(document, at: "part 3 › attachment notes.docx › body").contains("attached 536-22-8514"))
    }

    @Test func formatComesFromTheBytes() {
        let pdf = PDFWriter(pages: [["x"]]).bytes()
        #expect(FormatSniffer.detect(pdf, declaredType: "text/plain", filename: "notes.txt") == .pdf)
        #expect(FormatSniffer.detect(Array("name,ssn\nJo,536-22-8514\n".utf8), declaredType: "application/octet-stream",
                                     filename: "upload") == .text)
        #expect(FormatSniffer.detect([0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0, 0]) == .binary)
        #expect(FormatSniffer.detect(Array("{\"a\":1}\n{\"a\":2}\n".utf8)) == .jsonl)
        #expect(FormatSniffer.detect(Array("{\n  \"a\": 1\n}\n".utf8)) == .json)
        #expect(FormatSniffer.detect(Array("<!DOCTYPE html><p>x</p>".utf8)) == .html)
    }

    @Test func markupIsDecodedBesideTheVerbatimText() throws {
        let html = try self.extract(Array("<html><p>jo&#x40;acme&#46;com &amp; AKIA&#81;3EGKZ7L5WRXH2PD</p></html>".utf8))
        #expect(html.texts.first?.verbatim == true)
        #expect(self.text(html, at: "decoded").contains("jo@acme.com & \(Self.key)"))
        let rtf = try self.extract(Array(#"{\rtf1\ansi{\fonttbl{\f0 Arial;}}\f0 key AKIA\'51\u51?EGKZ7L5WRXH2PD\par}"#.utf8))
        #expect(rtf.format == .rtf)
        #expect(self.text(rtf, at: "decoded").contains("key \(Self.key)"))
    }
}

/// Inputs from the review of the first version: each hid text from the gateway, or could stop the daemon.
@Suite struct HostileDocumentTests {
    static let key = ExtractionTests.key
    let extractor = DocumentExtractor()

    func texts(_ bytes: [UInt8], limits: DocumentLimits = .default) throws -> String {
        let document = try self.extractor.extract(bytes, budget: ExtractionBudget(limits: limits))
        return document.texts.map { String(decoding: $0.text, as: UTF8.self) }.joined(separator: "\n")
    }

    @Test func rtfUnicodeEscapesOutOfRangeAndFallbackCounts() throws {
        // Out of any scalar's range: dropped, not trapped on.
        _ = try self.texts(Array(#"{\rtf1 a\u-70000?b\u5000000000?c\u99999999999999999999?d}"#.utf8))
        // \uc0: no fallback character follows each \uN, so none may be skipped.
        let text = try self.texts(Array(#"{\rtf1 \uc0\u65\u75\u73\u65Q3EGKZ7L5WRXH2PD}"#.utf8))
        #expect(text.contains(Self.key))
        // Ignorable destinations are read (annotations, text boxes).
        #expect(try self.texts(Array(#"{\rtf1 x{\*\annotation note AKIAQ3EGKZ7L5WRXH2PD}}"#.utf8)).contains(Self.key))
    }

    @Test func zipEntriesAreReadForTheDirectorysSizeNotItsStatedCount() throws {
        var zip = ZipWriter()
        zip.add("hidden.txt", "key \(Self.key)")
        zip.statedCount = 0
        #expect(try self.texts(zip.bytes()).contains(Self.key))
    }

    @Test func officePartsAreToldApartByTheirBytes() throws {
        var zip = ZipWriter()
        zip.add("[Content_Types].xml", "<Types/>")
        zip.add("word/document.xml", "<w:document><w:body><w:p><w:r><w:t>decoy</w:t></w:r></w:p></w:body></w:document>")
        zip.add("word/fonts/document.xml", "<w:document><w:body><w:p><w:r><w:t>\(Self.key)</w:t></w:r></w:p></w:body></w:document>")
        #expect(try self.texts(zip.bytes()).contains(Self.key))
    }

    @Test func cdataAndRunPropertiesDoNotHideOrSplitWords() throws {
        var zip = ZipWriter()
        zip.add("[Content_Types].xml", "<Types/>")
        zip.add("ppt/presentation.xml", "<p:presentation/>")
        zip.add("ppt/slides/slide1.xml", """
            <p:sld><a:p><a:r><a:rPr><a:solidFill><a:srgbClr val="FF0000"/></a:solidFill></a:rPr><a:t>AKIAQ3EG</a:t></a:r>\
            <a:r><a:rPr><a:solidFill><a:srgbClr val="00FF00"/></a:solidFill></a:rPr><a:t>KZ7L5WRXH2PD</a:t></a:r></a:p>\
            <a:p><a:r><a:t><![CDATA[cdata 536-22-8514]]></a:t></a:r></a:p></p:sld>
            """)
        let text = try self.texts(zip.bytes())
        #expect(text.contains(Self.key))
        #expect(text.contains("cdata 536-22-8514"))
    }

    @Test func mailPartsBehindQuotedSemicolonsBadBase64AndUTF16() throws {
        let utf16 = Array("key \(Self.key)".utf16).flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
        let message = """
            From: a@example.test\r\nTo: b@example.test\r\nSubject: x\r\nMIME-Version: 1.0\r
            Content-Type: multipart/mixed; boundary="b;1"\r\n\r
            --b;1\r\nContent-Type: text/plain; charset=utf-16le\r\nContent-Transfer-Encoding: base64\r\n\r
            \(Data(utf16).base64EncodedString())\r
            --b;1\r\nContent-Type: application/octet-stream; name="n.txt"\r\nContent-Transfer-Encoding: base64\r\n\r
            \(String(Data("ssn 536-22-8514".utf8).base64EncodedString().dropLast(4)))*\(String(Data("ssn 536-22-8514".utf8).base64EncodedString().suffix(4)))\r
            --b;1--\r\n
            """
        let text = try self.texts(Array(message.utf8))
        #expect(text.contains(Self.key))
        #expect(text.contains("536-22-8514"))
    }

    @Test func pdfStreamBombsAreFoundHoweverTheFilterIsSpelled() {
        for (filter, hex) in [("/Filter/Fl", false), ("/Filter 7 0 R", false), ("/Filter [/AHx /Fl]", true)] {
            do {
                _ = try self.texts(PDFWriter.streamBomb(bytes: 40 << 20, filter: filter, hex: hex))
                Issue.record("a bomb under \(filter) was read")
            } catch {
                guard case .limitExceeded = error as? DocumentError else { Issue.record("\(filter): \(error)"); continue }
            }
        }
    }

    @Test func audioAndLegacyOfficeAreUninspectable() {
        let wave = Array("RIFF".utf8) + [0, 0, 0, 0] + Array("WAVEfmt ".utf8) + [UInt8](repeating: 0, count: 64)
        #expect(FormatSniffer.detect(wave) == .audio)
        #expect(throws: DocumentError.unreadable("audio")) { try self.texts(wave) }
    }
}
