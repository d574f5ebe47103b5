/// Writes ZIP archives for tests (stored or deflated members, CRC computed), and Office Open XML packages on top.
public struct ZipWriter {
    public var members: [(name: String, data: [UInt8], deflate: Bool)] = []
    /// The entry count the end record states (nil: the true count). Readers such as Python's zipfile ignore it.
    public var statedCount: Int?

    public init() {}

    public mutating func add(_ name: String, _ text: String, deflate: Bool = true) {
        self.members.append((name, Array(text.utf8), deflate))
    }

    public mutating func add(_ name: String, bytes: [UInt8], deflate: Bool = true) {
        self.members.append((name, bytes, deflate))
    }

    public func bytes() -> [UInt8] {
        var out: [UInt8] = []
        var central: [UInt8] = []
        for member in self.members {
            let payload = member.deflate ? Deflate.raw(member.data) : member.data
            let crc = CRC32.checksum(member.data)
            let name = Array(member.name.utf8)
            let offset = out.count
            var local: [UInt8] = [0x50, 0x4B, 0x03, 0x04]
            local += le16(20) + le16(0) + le16(member.deflate ? 8 : 0) + le16(0) + le16(0x21)
            local += le32(crc) + le32(UInt32(payload.count)) + le32(UInt32(member.data.count))
            local += le16(UInt16(name.count)) + le16(0) + name
            out += local + payload
            central += [0x50, 0x4B, 0x01, 0x02] + le16(20) + le16(20) + le16(0) + le16(member.deflate ? 8 : 0)
            central += le16(0) + le16(0x21) + le32(crc) + le32(UInt32(payload.count)) + le32(UInt32(member.data.count))
            central += le16(UInt16(name.count)) + le16(0) + le16(0) + le16(0) + le16(0) + le32(0) + le32(UInt32(offset))
            central += name
        }
        let start = out.count
        out += central
        let count = UInt16(self.statedCount ?? self.members.count)
        out += [0x50, 0x4B, 0x05, 0x06] + le16(0) + le16(0) + le16(count) + le16(count) + le32(UInt32(central.count)) + le32(UInt32(start)) + le16(0)
        return out
    }

    private func le16(_ value: UInt16) -> [UInt8] { [UInt8(value & 0xFF), UInt8(value >> 8)] }
    private func le32(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8((value >> (8 * $0)) & 0xFF) } }
}

enum CRC32 {
    static let table: [UInt32] = (0..<256).map { index in
        var value = UInt32(index)
        for _ in 0..<8 { value = value & 1 != 0 ? 0xEDB8_8320 ^ (value >> 1) : value >> 1 }
        return value
    }

    static func checksum(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes { crc = self.table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }
}

/// Minimal Office Open XML packages: the parts a reader needs, text where the test puts it.
public enum OfficeWriter {
    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }

    /// A DOCX. `splitRuns` writes each paragraph as runs of 4 characters (as Word does after edits).
    public static func docx(paragraphs: [String], header: String? = nil, footer: String? = nil, comment: String? = nil,
                            author: String? = nil, splitRuns: Bool = false) -> [UInt8]
    {
        var zip = ZipWriter()
        zip.add("[Content_Types].xml", #"<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>"#)
        let body = paragraphs.map { paragraph -> String in
            let runs: [String] = splitRuns
                ? stride(from: 0, to: paragraph.count, by: 4).map { start in
                    let from = paragraph.index(paragraph.startIndex, offsetBy: start)
                    let to = paragraph.index(from, offsetBy: min(4, paragraph.count - start))
                    return String(paragraph[from..<to])
                }
                : [paragraph]
            return "<w:p>" + runs.map { "<w:r><w:rPr><w:b/></w:rPr><w:t xml:space=\"preserve\">\(escape($0))</w:t></w:r>" }.joined() + "</w:p>"
        }.joined()
        zip.add("word/document.xml", #"<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>"# + body + "</w:body></w:document>")
        if let header { zip.add("word/header1.xml", "<w:hdr xmlns:w=\"w\"><w:p><w:r><w:t>\(escape(header))</w:t></w:r></w:p></w:hdr>") }
        if let footer { zip.add("word/footer1.xml", "<w:ftr xmlns:w=\"w\"><w:p><w:r><w:t>\(escape(footer))</w:t></w:r></w:p></w:ftr>") }
        if let comment {
            zip.add("word/comments.xml", "<w:comments xmlns:w=\"w\"><w:comment w:id=\"0\" w:author=\"Reviewer\"><w:p><w:r><w:t>\(escape(comment))</w:t></w:r></w:p></w:comment></w:comments>")
        }
        if let author {
            zip.add("docProps/core.xml", "<cp:coreProperties xmlns:cp=\"cp\" xmlns:dc=\"dc\"><dc:title>Notes</dc:title><dc:creator>\(escape(author))</dc:creator></cp:coreProperties>")
        }
        return zip.bytes()
    }

    /// An XLSX: `shared` strings are referenced from the first sheet's column A, `cells` are inline in column B.
    public static func xlsx(shared: [String], cells: [String]) -> [UInt8] {
        var zip = ZipWriter()
        zip.add("[Content_Types].xml", #"<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>"#)
        zip.add("xl/workbook.xml", #"<workbook xmlns="main"><sheets><sheet name="Customers" sheetId="1"/></sheets></workbook>"#)
        zip.add("xl/sharedStrings.xml", "<sst xmlns=\"main\" count=\"\(shared.count)\">" + shared.map { "<si><t>\(escape($0))</t></si>" }.joined() + "</sst>")
        var rows = ""
        for row in 0..<max(shared.count, cells.count) {
            rows += "<row r=\"\(row + 1)\">"
            if row < shared.count { rows += "<c r=\"A\(row + 1)\" t=\"s\"><v>\(row)</v></c>" }
            if row < cells.count { rows += "<c r=\"B\(row + 1)\" t=\"inlineStr\"><is><t>\(escape(cells[row]))</t></is></c>" }
            rows += "</row>"
        }
        zip.add("xl/worksheets/sheet1.xml", "<worksheet xmlns=\"main\"><sheetData>\(rows)</sheetData></worksheet>")
        return zip.bytes()
    }

    /// A PPTX with one slide's text and its speaker notes.
    public static func pptx(slide: String, notes: String? = nil) -> [UInt8] {
        var zip = ZipWriter()
        zip.add("[Content_Types].xml", #"<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>"#)
        zip.add("ppt/presentation.xml", #"<p:presentation xmlns:p="p"/>"#)
        zip.add("ppt/slides/slide1.xml", "<p:sld xmlns:p=\"p\" xmlns:a=\"a\"><p:txBody><a:p><a:r><a:t>\(escape(slide))</a:t></a:r></a:p></p:txBody></p:sld>")
        if let notes {
            zip.add("ppt/notesSlides/notesSlide1.xml", "<p:notes xmlns:p=\"p\" xmlns:a=\"a\"><a:p><a:r><a:t>\(escape(notes))</a:t></a:r></a:p></p:notes>")
        }
        return zip.bytes()
    }
}
