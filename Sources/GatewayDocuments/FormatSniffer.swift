#if canImport(Glibc)
import Glibc
#endif

/// Decides a document's format from its bytes. A declared type or file name only chooses between text formats
/// (CSV or code, say), never between binary and text: a `.txt` holding a PDF is a PDF, and an `octet-stream`
/// part named `upload` holding CSV is text.
public enum FormatSniffer {
    public static func detect(_ bytes: UnsafeBufferPointer<UInt8>, declaredType: String? = nil,
                              filename: String? = nil) -> DocumentFormat
    {
        if let binary = self.magic(bytes) { return binary }
        guard self.isText(bytes) else { return .binary }
        let declared = (declaredType ?? "").lowercased()
        let name = (filename ?? "").lowercased()
        let start = self.firstNonBlank(bytes)
        if start < bytes.count {
            let head = Array(bytes[start..<min(bytes.count, start + 16)])
            if head.starts(with: Array("{\\rtf".utf8)) { return .rtf }
            if self.looksLikeEmail(bytes) || declared == "message/rfc822" && self.hasHeaderLine(bytes) { return .email }
            if self.looksLikeHTML(bytes, from: start) || declared.contains("html") || name.hasSuffix(".html")
                || name.hasSuffix(".htm")
            {
                return .html
            }
            if head.first == UInt8(ascii: "{") || head.first == UInt8(ascii: "[") {
                if name.hasSuffix(".jsonl") || name.hasSuffix(".ndjson") || declared.contains("jsonl")
                    || declared.contains("ndjson") || self.looksLikeJSONLines(bytes)
                {
                    return .jsonl
                }
                return .json
            }
        }
        return .text
    }

    public static func detect(_ bytes: [UInt8], declaredType: String? = nil, filename: String? = nil) -> DocumentFormat {
        bytes.withUnsafeBufferPointer { self.detect($0, declaredType: declaredType, filename: filename) }
    }

    static let pdfHeader = Array("%PDF-".utf8)

    /// Binary formats by their signature.
    static func magic(_ bytes: UnsafeBufferPointer<UInt8>) -> DocumentFormat? {
        func starts(_ signature: [UInt8], at offset: Int = 0) -> Bool {
            bytes.count >= offset + signature.count && zip(signature, bytes[offset...]).allSatisfy { $0 == $1 }
        }
        // "%PDF-" may follow junk: readers look for it in the first 1 KiB and, failing that, parse on anyway. So
        // in bytes that are not text it is looked for everywhere; in text, only where a reader would expect it
        // (a text that quotes "%PDF-" is text).
        if ByteText.firstIndex(of: self.pdfHeader, in: bytes, to: 1024 + self.pdfHeader.count) != nil { return .pdf }
        if ByteText.firstIndex(of: self.pdfHeader, in: bytes) != nil && !self.isText(bytes) { return .pdf }
        if starts([0x50, 0x4B, 0x03, 0x04]) || starts([0x50, 0x4B, 0x05, 0x06]) { return ZipArchive.officeFormat(of: bytes) }
        if starts([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if starts([0xFF, 0xD8, 0xFF]) { return .jpeg }
        if starts(Array("GIF87a".utf8)) || starts(Array("GIF89a".utf8)) { return .gif }
        if starts([0x49, 0x49, 0x2A, 0x00]) || starts([0x4D, 0x4D, 0x00, 0x2A]) { return .tiff }
        if starts(Array("RIFF".utf8)) && starts(Array("WEBP".utf8), at: 8) { return .webp }
        if starts(Array("BM".utf8)) && bytes.count > 26 { return .bmp }
        // OLE2 compound files: legacy Office documents and password-protected OOXML. Not readable here.
        if starts([0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) { return .binary }
        if (starts(Array("RIFF".utf8)) && starts(Array("WAVE".utf8), at: 8)) || starts(Array("ID3".utf8))
            || starts(Array("OggS".utf8)) || starts(Array("fLaC".utf8)) || starts([0xFF, 0xFB]) || starts([0xFF, 0xF3])
            || (starts(Array("ftyp".utf8), at: 4) && (starts(Array("M4A".utf8), at: 8) || starts(Array("mp4".utf8), at: 8)))
        {
            return .audio
        }
        return nil
    }

    /// UTF-8 without NUL bytes (a UTF-8 byte order mark allowed).
    static func isText(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        if ByteText.containsNUL(bytes) { return false }
        return String(validating: bytes, as: UTF8.self) != nil
    }

    static func firstNonBlank(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        var index = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
        return index
    }

    static let mailHeaders: [String] = [
        "from:", "to:", "subject:", "date:", "message-id:", "mime-version:", "received:", "return-path:",
        "content-type:", "delivered-to:", "cc:", "reply-to:",
    ]

    /// An RFC 5322 message: it starts with header lines, at least two of them common mail headers, before a blank line.
    static func looksLikeEmail(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard self.hasHeaderLine(bytes) else { return false }
        var known = 0
        var lineStart = 0
        let end = min(bytes.count, 16 * 1024)
        while lineStart < end {
            var lineEnd = lineStart
            while lineEnd < end && bytes[lineEnd] != 0x0A { lineEnd += 1 }
            let line = String(decoding: bytes[lineStart..<lineEnd], as: UTF8.self)
            if line.isEmpty || line == "\r" { break }
            let lower = line.lowercased()
            if self.mailHeaders.contains(where: { lower.hasPrefix($0) }) { known += 1 }
            lineStart = lineEnd + 1
        }
        return known >= 2
    }

    /// The first line is `Name: value`, with a header field name.
    public static func hasHeaderLine(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var index = 0
        while index < bytes.count && index < 80 {
            let byte = bytes[index]
            if byte == UInt8(ascii: ":") { return index > 0 }
            let isNameByte = (byte >= 0x21 && byte <= 0x7E)
            if !isNameByte { return false }
            index += 1
        }
        return false
    }

    static func looksLikeHTML(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Bool {
        let head = String(decoding: bytes[start..<min(bytes.count, start + 256)], as: UTF8.self).lowercased()
        return head.hasPrefix("<!doctype html") || head.hasPrefix("<html") || head.contains("<html")
    }

    /// More than one line, each starting with `{` or `[`.
    static func looksLikeJSONLines(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var lines = 0
        var atLineStart = true
        for byte in bytes.prefix(64 * 1024) {
            if atLineStart && byte != 0x0A && byte != 0x0D && byte != 0x20 {
                if byte != UInt8(ascii: "{") && byte != UInt8(ascii: "[") { return false }
                lines += 1
                atLineStart = false
            }
            if byte == 0x0A { atLineStart = true }
        }
        // A pretty-printed JSON document has lines starting with spaces or quotes, so it is not taken for lines.
        return lines > 1
    }
}

extension FormatSniffer {
    /// Whether `bytes` must be read as a document rather than scanned as plain text or JSON: a known binary
    /// format, an e-mail message, HTML or RTF (whose escapes hide text from a plain scan). Bytes of no known format
    /// are not a document here; whoever declared them text gets them refused as such.
    public static func isDocument(_ bytes: [UInt8]) -> Bool {
        ![.text, .json, .jsonl, .binary].contains(self.detect(bytes))
    }
}
