import CZlib
import Foundation

/// Writes small PDFs for tests: pages of text lines (Helvetica), optionally compressed content streams, document
/// information, a text annotation, a filled text form field, an image-only page, or an `/Encrypt` dictionary whose
/// password is not the empty one (so no reader can open it without a password).
public struct PDFWriter {
    public var pages: [[String]] = []
    public var compress = false
    public var info: [String: String] = [:]
    public var annotation: String?
    public var formField: (name: String, value: String)?
    /// Adds a page that draws only a 300 × 60 point grey image: text in a picture, none as text.
    public var imageOnlyPage = false
    public var encrypted = false

    public init(pages: [[String]] = []) { self.pages = pages }

    public func bytes() -> [UInt8] {
        var objects: [[UInt8]] = []  // object n is objects[n - 1]
        func add(_ body: [UInt8]) -> Int { objects.append(body); return objects.count }
        func add(_ text: String) -> Int { add(Array(text.utf8)) }
        let catalog = add("")  // filled in at the end
        let pagesObject = add("")
        let font = add("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
        var pageIDs: [Int] = []
        var fieldID: Int?
        for (number, lines) in self.pages.enumerated() {
            var content = "BT /F1 11 Tf 50 780 Td 14 TL\n"
            for line in lines { content += "(\(Self.escape(line))) Tj T*\n" }
            content += "ET\n"
            let stream = self.stream(Array(content.utf8), extra: "")
            let contentID = add(stream)
            var annots = ""
            if number == 0, let annotation {
                let annotID = add("<< /Type /Annot /Subtype /Text /Rect [100 100 120 120] /Contents (\(Self.escape(annotation))) >>")
                annots = " /Annots [\(annotID) 0 R"
                if let formField {
                    fieldID = add("<< /Type /Annot /Subtype /Widget /FT /Tx /T (\(Self.escape(formField.name))) /V (\(Self.escape(formField.value))) /Rect [100 200 300 220] >>")
                    annots += " \(fieldID!) 0 R"
                }
                annots += "]"
            } else if number == 0, let formField {
                fieldID = add("<< /Type /Annot /Subtype /Widget /FT /Tx /T (\(Self.escape(formField.name))) /V (\(Self.escape(formField.value))) /Rect [100 200 300 220] >>")
                annots = " /Annots [\(fieldID!) 0 R]"
            }
            pageIDs.append(add("<< /Type /Page /Parent \(pagesObject) 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 \(font) 0 R >> >> /Contents \(contentID) 0 R\(annots) >>"))
        }
        if self.imageOnlyPage {
            let pixels = [UInt8](repeating: 0x80, count: 300 * 60)
            let image = add(self.stream(pixels, extra: " /Type /XObject /Subtype /Image /Width 300 /Height 60 /ColorSpace /DeviceGray /BitsPerComponent 8"))
            let draw = add(self.stream(Array("q 300 0 0 60 100 600 cm /Im1 Do Q\n".utf8), extra: ""))
            pageIDs.append(add("<< /Type /Page /Parent \(pagesObject) 0 R /MediaBox [0 0 595 842] /Resources << /XObject << /Im1 \(image) 0 R >> >> /Contents \(draw) 0 R >>"))
        }
        objects[pagesObject - 1] = Array("<< /Type /Pages /Kids [\(pageIDs.map { "\($0) 0 R" }.joined(separator: " "))] /Count \(pageIDs.count) >>".utf8)
        let acroForm = fieldID.map { " /AcroForm << /Fields [\($0) 0 R] >>" } ?? ""
        objects[catalog - 1] = Array("<< /Type /Catalog /Pages \(pagesObject) 0 R\(acroForm) >>".utf8)
        var infoID: Int?
        if !self.info.isEmpty {
            infoID = add("<< " + self.info.map { "/\($0.key) (\(Self.escape($0.value)))" }.joined(separator: " ") + " >>")
        }
        var encryptID: Int?
        if self.encrypted {
            let o = String(repeating: "A1", count: 32), u = String(repeating: "B2", count: 32)
            encryptID = add("<< /Filter /Standard /V 2 /R 3 /Length 128 /P -1028 /O <\(o)> /U <\(u)> >>")
        }
        var out = Array("%PDF-1.7\n%\u{E2}\u{E3}\u{CF}\u{D3}\n".utf8)
        var offsets: [Int] = []
        for (index, body) in objects.enumerated() {
            offsets.append(out.count)
            out += Array("\(index + 1) 0 obj\n".utf8) + body + Array("\nendobj\n".utf8)
        }
        let xref = out.count
        out += Array("xref\n0 \(objects.count + 1)\n0000000000 65535 f \n".utf8)
        for offset in offsets { out += Array(String(format: "%010d 00000 n \n", offset).utf8) }
        var trailer = "trailer\n<< /Size \(objects.count + 1) /Root \(catalog) 0 R"
        if let infoID { trailer += " /Info \(infoID) 0 R" }
        if let encryptID { trailer += " /Encrypt \(encryptID) 0 R /ID [<0123456789ABCDEF0123456789ABCDEF> <0123456789ABCDEF0123456789ABCDEF>]" }
        out += Array((trailer + " >>\nstartxref\n\(xref)\n%%EOF\n").utf8)
        return out
    }

    private func stream(_ data: [UInt8], extra: String) -> [UInt8] {
        let payload = self.compress ? Deflate.zlib(data) : data
        let filter = self.compress ? " /Filter /FlateDecode" : ""
        return Array("<< /Length \(payload.count)\(filter)\(extra) >>\nstream\n".utf8) + payload + Array("\nendstream".utf8)
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "(", with: "\\(")
            .replacingOccurrences(of: ")", with: "\\)")
    }

    /// A PDF with one content stream that inflates to `bytes` spaces (a stream bomb). `filter` is how its
    /// dictionary spells the filter (`/Filter /FlateDecode`, `/Filter/Fl`, `/Filter 7 0 R`, …); `hex` writes the
    /// data as ASCII hex under `[/AHx /Fl]`.
    public static func streamBomb(bytes: Int, filter: String = "/Filter /FlateDecode", hex: Bool = false) -> [UInt8] {
        var writer = PDFWriter(pages: [["cover"]])
        writer.compress = true
        var pdf = writer.bytes()
        // Append an extra object holding the bomb: readers and the scan see a compressed non-image stream.
        var bomb = Deflate.zlib([UInt8](repeating: 0x20, count: bytes))
        if hex { bomb = Array(bomb.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined().utf8) + [UInt8(ascii: ">")] }
        let marker = Array("%%EOF\n".utf8)
        pdf.removeLast(marker.count)
        pdf += Array("99 0 obj\n<< /Length \(bomb.count) \(filter)>>\nstream\n".utf8) + bomb
            + Array("\nendstream\nendobj\n%%EOF\n".utf8)
        return pdf
    }
}

/// zlib deflate for fixtures (zlib-wrapped for PDF streams, raw for ZIP members).
public enum Deflate {
    public static func zlib(_ input: [UInt8]) -> [UInt8] { self.compress(input, windowBits: 15) }
    public static func raw(_ input: [UInt8]) -> [UInt8] { self.compress(input, windowBits: -15) }

    static func compress(_ input: [UInt8], windowBits: Int32) -> [UInt8] {
        var stream = z_stream()
        precondition(CZlib_deflateInit2(&stream, 9, windowBits) == Z_OK)
        defer { deflateEnd(&stream) }
        var input = input
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(input.count))) + 64)
        let produced = input.withUnsafeMutableBufferPointer { source in
            output.withUnsafeMutableBufferPointer { destination -> Int in
                stream.next_in = source.baseAddress
                stream.avail_in = UInt32(source.count)
                stream.next_out = destination.baseAddress
                stream.avail_out = UInt32(destination.count)
                precondition(deflate(&stream, Z_FINISH) == Z_STREAM_END)
                return destination.count - Int(stream.avail_out)
            }
        }
        return Array(output.prefix(produced))
    }
}
