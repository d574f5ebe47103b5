/// Text out of XML and HTML: character references and entities decoded, and for Office XML the markup removed
/// with a line break wherever a block (paragraph, cell, property) ends, so that words split across runs
/// (`<w:t>AKIA</w:t></w:r><w:r><w:t>IOSF…`) are read whole and separate values are not run together.
enum MarkupText {
    /// Elements (by local name) that end a block of text in WordprocessingML, SpreadsheetML and DrawingML:
    /// paragraphs, table cells and rows, sheet cells (and their formulas and values), shared strings, comments, text
    /// boxes. Closing one adds a line break; closing any other element adds nothing, so nothing between two runs of
    /// a paragraph (run properties, fills, proofing marks, unknown elements) can split a word.
    static let blockElements: [[UInt8]] = [
        "p", "tc", "tr", "tbl", "c", "row", "si", "f", "v", "comment", "text", "author", "txBody", "body", "hdr", "ftr",
        "footnote", "endnote", "txbxContent", "sldNum", "cNvPr",
    ].map { Array($0.utf8) }
    /// Attributes whose values are text a reader sees (comment authors, alternative text, hyperlink targets).
    static let textAttributes: [[UInt8]] = ["author", "name", "title", "descr", "Target", "alt", "tooltip", "val"]
        .map { Array($0.utf8) }
    /// Self-closing elements that stand for white space.
    static let spacingElements: [(name: [UInt8], byte: UInt8)] = [
        (Array("tab".utf8), 0x09), (Array("br".utf8), 0x0A), (Array("cr".utf8), 0x0A),
    ]

    /// Whether the local part (after the last `:`) of `name` is one of `names`. Compared as bytes: an Office part
    /// has a tag every few bytes, and a string per tag would make reading a workbook slower than scanning it.
    static func localName(_ name: Slice<UnsafeBufferPointer<UInt8>>, isOneOf names: [[UInt8]]) -> Bool {
        let local = name.lastIndex(of: UInt8(ascii: ":")).map { name[name.index(after: $0)...] } ?? name
        return names.contains { $0.count == local.count && $0.elementsEqual(local) }
    }

    /// The text of an Office XML part. With `separateEveryElement` (property and custom parts, where each element
    /// is one value), every closing tag ends a line; otherwise only `blockElements` do.
    static func officeXML(_ xml: UnsafeBufferPointer<UInt8>, separateEveryElement: Bool = false) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(xml.count / 3)
        var attributes: [UInt8] = []
        var index = 0
        var textStart = 0
        while index < xml.count {
            guard xml[index] == UInt8(ascii: "<") else { index += 1; continue }
            self.appendDecoded(UnsafeBufferPointer(rebasing: xml[textStart..<index]), to: &out)
            if let (content, end) = self.cdata(xml, at: index) {
                // Character data as written: parsers hand it to readers as text.
                out.append(contentsOf: content)
                index = end
                textStart = index
                continue
            }
            guard let close = self.tagEnd(xml, from: index) else { textStart = xml.count; break }
            let tag = UnsafeBufferPointer(rebasing: xml[(index + 1)..<close])
            self.handleTag(tag, out: &out, attributes: &attributes, separateEveryElement: separateEveryElement)
            index = close + 1
            textStart = index
        }
        if textStart < xml.count { self.appendDecoded(UnsafeBufferPointer(rebasing: xml[textStart...]), to: &out) }
        if !attributes.isEmpty {
            out.append(0x0A)
            out.append(contentsOf: attributes)
        }
        return out
    }

    static let cdataOpener = Array("<![CDATA[".utf8)

    /// A CDATA section starting at `start`: its content and the index after its end.
    private static func cdata(_ xml: UnsafeBufferPointer<UInt8>, at start: Int) -> (Slice<UnsafeBufferPointer<UInt8>>, Int)? {
        let opener = Self.cdataOpener
        guard xml.count - start > 1, xml[start + 1] == UInt8(ascii: "!"), xml.count - start >= opener.count,
              opener.elementsEqual(xml[start..<(start + opener.count)])
        else { return nil }
        var index = start + opener.count
        while index + 2 < xml.count {
            if xml[index] == UInt8(ascii: "]") && xml[index + 1] == UInt8(ascii: "]") && xml[index + 2] == UInt8(ascii: ">") {
                return (xml[(start + opener.count)..<index], index + 3)
            }
            index += 1
        }
        return (xml[(start + opener.count)...], xml.count)
    }

    private static func handleTag(_ tag: UnsafeBufferPointer<UInt8>, out: inout [UInt8], attributes: inout [UInt8],
                                  separateEveryElement: Bool)
    {
        guard let first = tag.first else { return }
        if first == UInt8(ascii: "?") || first == UInt8(ascii: "!") { return }  // declarations, comments, CDATA markers
        let closing = first == UInt8(ascii: "/")
        let selfClosing = tag.last == UInt8(ascii: "/")
        let nameStart = closing ? 1 : 0
        var nameEnd = nameStart
        while nameEnd < tag.count && !self.isSpace(tag[nameEnd]) && tag[nameEnd] != UInt8(ascii: "/") { nameEnd += 1 }
        let name = tag[nameStart..<nameEnd]
        if !closing && nameEnd < tag.count { self.collectAttributes(UnsafeBufferPointer(rebasing: tag[nameEnd...]), into: &attributes) }
        if selfClosing {
            let local = name.lastIndex(of: UInt8(ascii: ":")).map { name[name.index(after: $0)...] } ?? name
            if let spacing = self.spacingElements.first(where: { $0.name.elementsEqual(local) }) { out.append(spacing.byte) }
        } else if closing && out.last != 0x0A
            && (separateEveryElement || self.localName(name, isOneOf: self.blockElements))
        {
            out.append(0x0A)
        }
    }

    /// Values of the attributes in `textAttributes`, one per line.
    private static func collectAttributes(_ text: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) {
        var index = 0
        while index < text.count {
            guard let equals = text[index...].firstIndex(of: UInt8(ascii: "=")) else { return }
            var nameStart = equals
            while nameStart > index && !self.isSpace(text[nameStart - 1]) { nameStart -= 1 }
            var valueStart = equals + 1
            guard valueStart < text.count else { return }
            let quote = text[valueStart]
            guard quote == UInt8(ascii: "\"") || quote == UInt8(ascii: "'") else { index = valueStart; continue }
            valueStart += 1
            guard let valueEnd = text[valueStart...].firstIndex(of: quote) else { return }
            if valueEnd - valueStart >= 4 && self.localName(text[nameStart..<equals], isOneOf: self.textAttributes) {
                self.appendDecoded(UnsafeBufferPointer(rebasing: text[valueStart..<valueEnd]), to: &out)
                out.append(0x0A)
            }
            index = valueEnd + 1
        }
    }

    /// The end of the tag starting at `start` (`>` outside quoted attribute values).
    private static func tagEnd(_ xml: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        var quote: UInt8?
        var index = start + 1
        // Comments and CDATA sections end at their own markers, which may hold `>`.
        if xml.count - start >= 4 && xml[start + 1] == UInt8(ascii: "!") && xml[start + 2] == UInt8(ascii: "-") {
            var probe = start + 4
            while probe + 2 < xml.count {
                if xml[probe] == UInt8(ascii: "-") && xml[probe + 1] == UInt8(ascii: "-") && xml[probe + 2] == UInt8(ascii: ">") {
                    return probe + 2
                }
                probe += 1
            }
            return nil
        }
        while index < xml.count {
            let byte = xml[index]
            if let open = quote {
                if byte == open { quote = nil }
            } else if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") {
                quote = byte
            } else if byte == UInt8(ascii: ">") {
                return index
            }
            index += 1
        }
        return nil
    }

    private static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D }

    /// Appends `text` with character references (`&#65;`, `&#x41;`) and entities (`&amp;`, `&nbsp;`, ...)
    /// decoded. Unknown entities stay as written.
    static func appendDecoded(_ text: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        var index = 0
        while index < text.count {
            let byte = text[index]
            guard byte == UInt8(ascii: "&"), let semicolon = self.referenceEnd(text, from: index) else {
                out.append(byte)
                index += 1
                continue
            }
            let name = String(decoding: text[(index + 1)..<semicolon], as: UTF8.self)
            if let scalar = self.scalar(forReference: name) {
                out.append(contentsOf: Array(String(Character(scalar)).utf8))
                index = semicolon + 1
            } else {
                out.append(byte)
                index += 1
            }
        }
    }

    /// Decodes entities in a whole text.
    public static func decodeEntities(_ text: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(text.count)
        self.appendDecoded(text, to: &out)
        return out
    }

    private static func referenceEnd(_ text: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        var index = start + 1
        while index < text.count && index - start <= 32 {
            let byte = text[index]
            if byte == UInt8(ascii: ";") { return index > start + 1 ? index : nil }
            let isNameByte = (byte >= 0x30 && byte <= 0x39) || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x7A) || byte == 0x23
            if !isNameByte { return nil }
            index += 1
        }
        return nil
    }

    static let namedEntities: [String: UInt32] = [
        "amp": 0x26, "lt": 0x3C, "gt": 0x3E, "quot": 0x22, "apos": 0x27, "nbsp": 0xA0, "shy": 0xAD, "ndash": 0x2013,
        "mdash": 0x2014, "lsquo": 0x2018, "rsquo": 0x2019, "ldquo": 0x201C, "rdquo": 0x201D, "hellip": 0x2026,
        "commat": 0x40, "period": 0x2E, "colon": 0x3A, "sol": 0x2F, "lowbar": 0x5F, "hyphen": 0x2010, "dash": 0x2010,
        "plus": 0x2B, "equals": 0x3D, "num": 0x23, "dollar": 0x24, "percnt": 0x25, "excl": 0x21, "quest": 0x3F,
        "lpar": 0x28, "rpar": 0x29, "comma": 0x2C, "semi": 0x3B, "ast": 0x2A, "bsol": 0x5C, "verbar": 0x7C,
        "zwj": 0x200D, "zwnj": 0x200C, "ensp": 0x2002, "emsp": 0x2003, "thinsp": 0x2009, "copy": 0xA9, "reg": 0xAE,
        "euro": 0x20AC, "pound": 0xA3, "middot": 0xB7, "tilde": 0x7E, "Hat": 0x5E, "grave": 0x60,
    ]

    private static func scalar(forReference name: String) -> Unicode.Scalar? {
        if name.hasPrefix("#x") || name.hasPrefix("#X") {
            return UInt32(name.dropFirst(2), radix: 16).flatMap(Unicode.Scalar.init)
        }
        if name.hasPrefix("#") { return UInt32(name.dropFirst(), radix: 10).flatMap(Unicode.Scalar.init) }
        return self.namedEntities[name].flatMap(Unicode.Scalar.init)
    }
}
