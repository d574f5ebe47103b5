import Foundation
#if canImport(Glibc)
import Glibc
#endif
import CPoppler

/// PDF text through poppler (its GLib interface): each page's text, then its annotations' contents and form
/// fields' values, then the document's metadata (info dictionary and XMP).
///
/// Before poppler sees the file, `PDFStreamScan` inflates every compressed non-image stream under the budget, so a
/// stream bomb is refused before poppler would expand it. (Text extraction does not decode images.)
enum PDFText {
    /// Images drawn smaller than this (in points: an inch by a line) cannot hold a legible line of text.
    static let smallestTextImage = (width: 72.0, height: 12.0)
    /// Pages are rendered for OCR at this resolution.
    static let ocrDPI = 150.0

    /// - Parameter imageReader: OCR for pages that draw images; nil: such a page is an unreadable part.
    static func extract(_ bytes: UnsafeBufferPointer<UInt8>, into document: inout ExtractedDocument,
                        imageReader: (any ImageTextReader)?, budget: ExtractionBudget) throws(DocumentError)
    {
        try PDFStreamScan.measure(bytes, budget: budget)
        var failure: Int32 = 0
        guard let pdf = gw_pdf_open(bytes.baseAddress, bytes.count, &failure) else {
            if failure == 1 { throw .encrypted }
            throw .damaged("poppler cannot open it as a PDF")
        }
        defer { gw_pdf_close(pdf) }
        let pages = Int(gw_pdf_page_count(pdf))
        guard pages <= budget.limits.maximumPages else {
            throw .limitExceeded(limit: "pages", detail: "\(pages) pages, more than \(budget.limits.maximumPages)")
        }
        document.pages = pages
        for index in 0..<pages {
            try budget.checkDeadline()
            if let text = self.take(gw_pdf_page_text(pdf, Int32(index))) {
                try document.keep(text, at: "page \(index + 1)", budget: budget)
            }
            if let extras = self.take(gw_pdf_page_annotations_and_fields(pdf, Int32(index))) {
                try document.keep(extras, at: "page \(index + 1) annotations and form fields", budget: budget)
            }
            let images = gw_pdf_page_image_count(pdf, Int32(index), self.smallestTextImage.width,
                                                 self.smallestTextImage.height)
            if images > 0 {
                try self.readImages(of: pdf, page: index, reader: imageReader, into: &document, budget: budget)
            }
        }
        if let metadata = self.take(gw_pdf_metadata(pdf)) {
            try document.keep(metadata, at: "metadata", budget: budget)
        }
    }

    /// A page that draws images: rendered and read by OCR, or, without OCR, an unreadable part (text in a picture
    /// is text a model reads).
    private static func readImages(of pdf: OpaquePointer, page index: Int, reader: (any ImageTextReader)?,
                                   into document: inout ExtractedDocument, budget: ExtractionBudget) throws(DocumentError)
    {
        let location = "page \(index + 1) images"
        guard let reader else {
            document.unreadable.append(UnreadablePart(location: location, reason: .unreadable("an image (OCR is off)")))
            return
        }
        try budget.checkDeadline()
        var count = 0
        guard let png = gw_pdf_page_png(pdf, Int32(index), self.ocrDPI, budget.limits.maximumImagePixels, &count) else {
            document.unreadable.append(UnreadablePart(
                location: location, reason: .limitExceeded(limit: "image_pixels", detail: "the page is too large to render")))
            return
        }
        defer { gw_free(png) }
        let text = try reader.recognize(UnsafeBufferPointer(start: png, count: count), limits: budget.limits,
                                       milliseconds: budget.millisecondsLeft)
        if !text.isEmpty { try document.keep(text, at: location + " (OCR)", budget: budget) }
    }

    /// Page `index` of a PDF rendered to PNG at `dpi` (tests and tools: text as a picture).
    static func renderPage(_ bytes: [UInt8], index: Int, dpi: Double = 150) -> [UInt8]? {
        bytes.withUnsafeBufferPointer { buffer -> [UInt8]? in
            var failure: Int32 = 0
            guard let pdf = gw_pdf_open(buffer.baseAddress, buffer.count, &failure) else { return nil }
            defer { gw_pdf_close(pdf) }
            var count = 0
            guard let png = gw_pdf_page_png(pdf, Int32(index), dpi, 100_000_000, &count) else { return nil }
            defer { gw_free(png) }
            return Array(UnsafeBufferPointer(start: png, count: count))
        }
    }

    /// Copies and frees a string poppler allocated; nil for none or an empty one (nothing to keep).
    private static func take(_ pointer: UnsafeMutablePointer<CChar>?) -> [UInt8]? {
        guard let pointer else { return nil }
        defer { gw_free(pointer) }
        let count = strlen(pointer)
        guard count > 0 else { return nil }
        return Array(UnsafeBufferPointer(start: UnsafeRawPointer(pointer).assumingMemoryBound(to: UInt8.self), count: count))
    }
}

/// Finds the PDF's streams by their keywords and inflates each non-image one that is zlib data (by its header,
/// whatever its dictionary says or how it spells the filter), under the budget, counting, not keeping, the output.
/// Streams under `/ASCIIHexDecode` are hex-decoded first. Not a PDF parser: a stream this scan misses is still read by
/// poppler, bounded then by the page count, the text limit and the deadline between pages.
enum PDFStreamScan {
    /// How far before `stream` its dictionary is looked for.
    static let dictionaryWindow = 64 * 1024

    static func measure(_ bytes: UnsafeBufferPointer<UInt8>, budget: ExtractionBudget) throws(DocumentError) {
        let keyword = Array("stream".utf8)
        let end = Array("endstream".utf8)
        var index = 0
        var streams = 0
        while let found = ByteText.firstIndex(of: keyword, in: bytes, from: index) {
            index = found + keyword.count
            // "endstream" contains "stream"; only a keyword followed by an end of line opens a stream.
            if found >= 3 && bytes[found - 3] == UInt8(ascii: "e") { continue }
            var start = index
            if start < bytes.count && bytes[start] == 0x0D { start += 1 }
            guard start < bytes.count, bytes[start] == 0x0A else { continue }
            start += 1
            streams += 1
            if streams % 64 == 0 { try budget.checkDeadline() }
            let windowStart = max(0, found - self.dictionaryWindow)
            let dictionaryStart = self.findLast(Array("obj".utf8), in: bytes, from: windowStart, to: found) ?? windowStart
            let stop = ByteText.firstIndex(of: end, in: bytes, from: start) ?? bytes.count
            index = max(index, stop)
            if ByteText.firstIndex(of: Array("/Image".utf8), in: bytes, from: dictionaryStart, to: found) != nil { continue }
            var data = UnsafeBufferPointer(rebasing: bytes[start..<stop])
            var hexDecoded: [UInt8] = []
            if ByteText.firstIndex(of: Array("AHx".utf8), in: bytes, from: dictionaryStart, to: found) != nil
                || ByteText.firstIndex(of: Array("ASCIIHex".utf8), in: bytes, from: dictionaryStart, to: found) != nil
            {
                hexDecoded = self.hexDecode(data)
            }
            try hexDecoded.withUnsafeBufferPointer { (decoded) throws(DocumentError) in
                if !hexDecoded.isEmpty { data = decoded }
                guard self.isZlib(data) else { return }
                _ = try Inflater.inflate(data, wrapping: .zlib, budget: budget, tolerateTruncation: true, keep: false)
            }
        }
    }

    /// A zlib stream header: deflate method, a window size zlib knows, and the check bits.
    static func isZlib(_ data: UnsafeBufferPointer<UInt8>) -> Bool {
        guard data.count >= 2 else { return false }
        let first = UInt16(data[0]), second = UInt16(data[1])
        return first & 0x0F == 8 && first >> 4 <= 7 && (first << 8 | second) % 31 == 0
    }

    static func hexDecode(_ text: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(text.count / 2)
        var high: UInt8?
        for byte in text {
            if byte == UInt8(ascii: ">") { break }
            guard let value = TransferDecoding.hexDigitValue(byte) else { continue }
            if let pending = high { out.append(pending << 4 | value); high = nil } else { high = value }
        }
        if let pending = high { out.append(pending << 4) }
        return out
    }

    private static func findLast(_ needle: [UInt8], in bytes: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) -> Int? {
        var position = end - needle.count
        while position >= start {
            if bytes[position] == needle[0] && needle.elementsEqual(bytes[position..<(position + needle.count)]) {
                return position
            }
            position -= 1
        }
        return nil
    }
}

/// Renders PDF pages to PNG (tests and tools that need text as a picture).
public enum DocumentRendering {
    public static func png(ofPage index: Int, in pdf: [UInt8], dpi: Double = 150) -> [UInt8]? {
        PDFText.renderPage(pdf, index: index, dpi: dpi)
    }
}
