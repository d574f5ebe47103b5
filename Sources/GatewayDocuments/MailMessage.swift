import Foundation
/// An RFC 5322 message (or one MIME entity of it): header fields, and a body that is either text, a multipart of
/// further entities, an enclosed message, or an attachment.
struct MailEntity {
    /// Header fields in order, names lower-cased, folded lines joined, encoded words (RFC 2047) decoded.
    let headers: [(name: String, value: String)]
    let body: UnsafeBufferPointer<UInt8>

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        var headerEnd = bytes.count
        var bodyStart = bytes.count
        var index = 0
        // An entity that starts with a blank line has no header fields.
        if bytes.first == 0x0A { headerEnd = 0; bodyStart = 1; index = bytes.count }
        if bytes.count >= 2 && bytes[0] == 0x0D && bytes[1] == 0x0A { headerEnd = 0; bodyStart = 2; index = bytes.count }
        while index < bytes.count {
            // A blank line (LF LF or CRLF CRLF) ends the header section.
            if bytes[index] == 0x0A {
                if index + 1 < bytes.count && bytes[index + 1] == 0x0A { headerEnd = index; bodyStart = index + 2; break }
                if index + 2 < bytes.count && bytes[index + 1] == 0x0D && bytes[index + 2] == 0x0A {
                    headerEnd = index; bodyStart = index + 3; break
                }
            }
            index += 1
        }
        var headers: [(String, String)] = []
        let headerText = String(decoding: bytes[0..<headerEnd], as: UTF8.self)
        for line in headerText.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            if line.first == " " || line.first == "\t", !headers.isEmpty {
                headers[headers.count - 1].1 += " " + line.trimmingWhitespace()
            } else if let colon = line.firstIndex(of: ":") {
                headers.append((line[..<colon].lowercased(), String(line[line.index(after: colon)...]).trimmingWhitespace()))
            }
        }
        self.headers = headers.map { ($0.0, EncodedWords.decode($0.1)) }
        self.body = UnsafeBufferPointer(rebasing: bytes[bodyStart...])
    }

    func header(_ name: String) -> String? { self.headers.first { $0.name == name }?.value }

    /// The `Content-Type` essence (lower-cased) and its parameters.
    var contentType: (essence: String, parameters: [String: String]) {
        Self.parameters(self.header("content-type") ?? "text/plain")
    }

    /// The attachment's file name, from `Content-Disposition` or `Content-Type`.
    var filename: String? {
        Self.parameters(self.header("content-disposition") ?? "").parameters["filename"] ?? self.contentType.parameters["name"]
    }

    /// The body of a text part as UTF-8: its transfer encoding undone, then its `charset` (UTF-16 and the Latin
    /// single-byte sets; UTF-8 and ASCII as they are).
    func decodedText() -> [UInt8] {
        let body = self.decodedBody()
        let charset = (self.contentType.parameters["charset"] ?? "utf-8").lowercased()
        switch charset {
        case "utf-16", "utf-16le", "utf-16be", "ucs-2":
            var units: [UInt16] = []
            var bigEndian = charset == "utf-16be"
            var start = 0
            if body.count >= 2 && body[0] == 0xFE && body[1] == 0xFF { bigEndian = true; start = 2 }
            if body.count >= 2 && body[0] == 0xFF && body[1] == 0xFE { bigEndian = false; start = 2 }
            var index = start
            while index + 1 < body.count {
                units.append(bigEndian ? UInt16(body[index]) << 8 | UInt16(body[index + 1])
                                       : UInt16(body[index + 1]) << 8 | UInt16(body[index]))
                index += 2
            }
            return Array(String(decoding: units, as: UTF16.self).utf8)
        case "iso-8859-1", "latin1", "iso-8859-15", "windows-1252", "cp1252":
            return Array(String(String.UnicodeScalarView(body.map { Unicode.Scalar($0) })).utf8)
        default:
            return body
        }
    }

    /// The body with its `Content-Transfer-Encoding` undone.
    func decodedBody() -> [UInt8] {
        switch (self.header("content-transfer-encoding") ?? "").lowercased() {
        // Leniently, as mail readers do: characters outside the alphabet are skipped, not a reason to give up.
        case "base64": TransferDecoding.base64(self.body, lenient: true) ?? Array(self.body)
        case "quoted-printable": TransferDecoding.quotedPrintable(self.body)
        default: Array(self.body)
        }
    }

    /// The entities of a multipart body, split at `--boundary` lines.
    func parts(boundary: String) -> [UnsafeBufferPointer<UInt8>] {
        let delimiter = Array(("--" + boundary).utf8)
        var starts: [(start: Int, end: Int)] = []
        var index = 0
        while index + delimiter.count <= self.body.count {
            let atLineStart = index == 0 || self.body[index - 1] == 0x0A
            if atLineStart && self.body[index] == UInt8(ascii: "-")
                && zip(delimiter, self.body[index...]).allSatisfy({ $0 == $1 })
            {
                starts.append((index, index + delimiter.count))
                index += delimiter.count
            } else {
                index += 1
            }
        }
        var parts: [UnsafeBufferPointer<UInt8>] = []
        for (number, delimiterAt) in starts.enumerated() {
            var start = delimiterAt.end
            if start + 1 < self.body.count && self.body[start] == UInt8(ascii: "-") && self.body[start + 1] == UInt8(ascii: "-") {
                break  // the closing delimiter
            }
            while start < self.body.count && self.body[start] != 0x0A { start += 1 }
            start = min(self.body.count, start + 1)
            var end = number + 1 < starts.count ? starts[number + 1].start : self.body.count
            if end > start && self.body[end - 1] == 0x0A { end -= 1 }
            if end > start && self.body[end - 1] == 0x0D { end -= 1 }
            if end > start { parts.append(UnsafeBufferPointer(rebasing: self.body[start..<end])) }
        }
        return parts
    }

    static func parameters(_ header: String) -> (essence: String, parameters: [String: String]) {
        // `;` inside a quoted value (`boundary="a;b"`) does not separate parameters.
        var pieces: [Substring] = []
        var start = header.startIndex
        var quoted = false
        for index in header.indices {
            if header[index] == "\"" { quoted.toggle() }
            if header[index] == ";" && !quoted {
                pieces.append(header[start..<index])
                start = header.index(after: index)
            }
        }
        pieces.append(header[start...])
        var parameters: [String: String] = [:]
        for piece in pieces.dropFirst() {
            guard let equals = piece.firstIndex(of: "=") else { continue }
            let name = piece[..<equals].trimmingWhitespace().lowercased()
            var value = piece[piece.index(after: equals)...].trimmingWhitespace()
            if value.count >= 2 && value.hasPrefix("\"") && value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
            parameters[name] = value
        }
        return ((pieces.first.map { $0.trimmingWhitespace().lowercased() } ?? ""), parameters)
    }
}

/// RFC 2047 encoded words in header values: `=?utf-8?B?…?=` and `=?utf-8?Q?…?=`.
enum EncodedWords {
    static func decode(_ value: String) -> String {
        guard value.contains("=?") else { return value }
        var out = ""
        var rest = Substring(value)
        while let start = rest.range(of: "=?") {
            out += rest[..<start.lowerBound]
            let afterStart = rest[start.upperBound...]
            let pieces = afterStart.split(separator: "?", maxSplits: 3, omittingEmptySubsequences: false)
            guard pieces.count == 4, pieces[3].hasPrefix("="), pieces[1].count == 1 else {
                out += "=?"
                rest = afterStart
                continue
            }
            let payload = Array(pieces[2].utf8)
            let decoded: [UInt8]? = payload.withUnsafeBufferPointer { buffer in
                pieces[1].uppercased() == "B" ? TransferDecoding.base64(buffer)
                    : TransferDecoding.quotedPrintable(buffer, underscoreIsSpace: true)
            }
            out += decoded.map { String(decoding: $0, as: UTF8.self) } ?? String(pieces[2])
            rest = pieces[3].dropFirst()
            // White space between two encoded words is not part of the text.
            if rest.hasPrefix(" =?") || rest.hasPrefix("\t=?") { rest = rest.dropFirst() }
        }
        return out + rest
    }
}

extension StringProtocol {
    func trimmingWhitespace() -> String {
        let scalars = self.unicodeScalars
        guard let first = scalars.firstIndex(where: { !($0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n") }),
              let last = scalars.lastIndex(where: { !($0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n") })
        else { return "" }
        return String(String.UnicodeScalarView(scalars[first...last]))
    }
}
