/// Decoding and encoding of JSON string literals at the byte level.
enum JSONStringCodec {
    /// Decodes the literal `body[range]` (including its quotes) to UTF-8 bytes. Assumes the walker validated the
    /// escapes; a lone surrogate escape becomes U+FFFD.
    static func decode(_ body: UnsafeBufferPointer<UInt8>, literal range: Range<Int>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(range.count)
        var index = range.lowerBound + 1
        let end = range.upperBound - 1
        while index < end {
            // Copy the run up to the next backslash in one go.
            var runEnd = index
            while runEnd < end && body[runEnd] != UInt8(ascii: "\\") { runEnd += 1 }
            if runEnd > index {
                out.append(contentsOf: UnsafeBufferPointer(rebasing: body[index..<runEnd]))
                index = runEnd
                continue
            }
            let escape = body[index + 1]
            index += 2
            switch escape {
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "u"):
                var scalar = hex4(body, at: index)
                index += 4
                if (0xD800...0xDBFF).contains(scalar), index + 6 <= end, body[index] == UInt8(ascii: "\\"),
                    body[index + 1] == UInt8(ascii: "u")
                {
                    let low = hex4(body, at: index + 2)
                    if (0xDC00...0xDFFF).contains(low) {
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        index += 6
                    }
                }
                if (0xD800...0xDFFF).contains(scalar) { scalar = 0xFFFD }
                appendUTF8(scalar, to: &out)
            default: out.append(escape)  // \" \\ \/
            }
        }
        return out
    }

    static func hex4(_ body: UnsafeBufferPointer<UInt8>, at index: Int) -> UInt32 {
        var value: UInt32 = 0
        for offset in 0..<4 { value = value << 4 | UInt32(PercentEncoding.hexDigitValue(body[index + offset]) ?? 0) }
        return value
    }

    static func appendUTF8(_ scalar: UInt32, to out: inout [UInt8]) {
        switch scalar {
        case 0..<0x80: out.append(UInt8(scalar))
        case 0x80..<0x800:
            out.append(0xC0 | UInt8(scalar >> 6))
            out.append(0x80 | UInt8(scalar & 0x3F))
        case 0x800..<0x10000:
            out.append(0xE0 | UInt8(scalar >> 12))
            out.append(0x80 | UInt8((scalar >> 6) & 0x3F))
            out.append(0x80 | UInt8(scalar & 0x3F))
        default:
            out.append(0xF0 | UInt8(scalar >> 18))
            out.append(0x80 | UInt8((scalar >> 12) & 0x3F))
            out.append(0x80 | UInt8((scalar >> 6) & 0x3F))
            out.append(0x80 | UInt8(scalar & 0x3F))
        }
    }

    /// Encodes UTF-8 bytes as a JSON string literal with quotes: `"` and `\` escaped, control characters as short
    /// escapes or `\u00XX`, everything else (including non-ASCII UTF-8) copied as is.
    static func encode(_ text: [UInt8]) -> [UInt8] {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = [UInt8(ascii: "\"")]
        out.reserveCapacity(text.count + 2)
        var runStart = 0
        for (position, byte) in text.enumerated() where byte < 0x20 || byte == 0x22 || byte == 0x5C {
            out.append(contentsOf: text[runStart..<position])
            runStart = position + 1
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: [0x5C, 0x22])
            case UInt8(ascii: "\\"): out.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case 0x08: out.append(contentsOf: [0x5C, UInt8(ascii: "b")])
            case 0x0C: out.append(contentsOf: [0x5C, UInt8(ascii: "f")])
            default: out.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30, digits[Int(byte >> 4)], digits[Int(byte & 0xF)]])
            }
        }
        out.append(contentsOf: text[runStart...])
        out.append(UInt8(ascii: "\""))
        return out
    }
}
