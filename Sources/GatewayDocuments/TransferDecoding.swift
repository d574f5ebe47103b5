/// The decodings documents are wrapped in: base64 (lenient about line breaks and white space, as mail readers are)
/// and quoted-printable.
public enum TransferDecoding {
    private static let base64Values: [Int8] = {
        var table = [Int8](repeating: -1, count: 256)
        for (value, character) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8.enumerated() {
            table[Int(character)] = Int8(value)
        }
        // The URL-safe alphabet decodes too: a reader that accepts it must not hide a document from the gateway.
        table[Int(UInt8(ascii: "-"))] = 62
        table[Int(UInt8(ascii: "_"))] = 63
        return table
    }()

    /// Decodes base64, skipping white space; nil when another byte appears or the length is impossible. With
    /// `lenient`, every byte outside the alphabet is skipped (as Python's `b64decode` does by default and mail
    /// readers do), and only an impossible length fails.
    public static func base64(_ text: UnsafeBufferPointer<UInt8>, lenient: Bool = false) -> [UInt8]? {
        let values = self.base64Values
        var out: [UInt8] = []
        out.reserveCapacity(text.count / 4 * 3)
        var accumulator: UInt32 = 0
        var bits = 0
        var padding = 0
        for byte in text {
            if byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { continue }
            if byte == UInt8(ascii: "=") { padding += 1; continue }
            let value = values[Int(byte)]
            if lenient && (value < 0 || padding > 0) {
                if value < 0 { continue }
                padding = 0  // data after padding: a reader that concatenates keeps reading
            }
            guard value >= 0, padding == 0 else { return nil }
            accumulator = accumulator << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
        }
        guard lenient || padding <= 2, bits < 6 || lenient else { return nil }
        return out
    }

    public static func base64(_ text: [UInt8], lenient: Bool = false) -> [UInt8]? {
        text.withUnsafeBufferPointer { self.base64($0, lenient: lenient) }
    }

    /// Whether `text` is only base64 characters (and white space), at least `minimum` of them.
    public static func isBase64(_ text: UnsafeBufferPointer<UInt8>, minimum: Int) -> Bool {
        // The table is read once, not per byte: every long string of every request passes here.
        self.base64Values.withUnsafeBufferPointer { values in
            var count = 0
            for byte in text {
                if byte == 0x0A || byte == 0x0D || byte == 0x20 || byte == 0x09 || byte == UInt8(ascii: "=") { continue }
                if values[Int(byte)] < 0 { return false }
                count += 1
            }
            return count >= minimum
        }
    }

    /// Encodes base64 (standard alphabet, padded, one line).
    public static func encodeBase64(_ bytes: [UInt8]) -> [UInt8] {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index < bytes.count {
            let chunk = (UInt32(bytes[index]) << 16) | (index + 1 < bytes.count ? UInt32(bytes[index + 1]) << 8 : 0)
                | (index + 2 < bytes.count ? UInt32(bytes[index + 2]) : 0)
            out.append(alphabet[Int(chunk >> 18 & 63)])
            out.append(alphabet[Int(chunk >> 12 & 63)])
            out.append(index + 1 < bytes.count ? alphabet[Int(chunk >> 6 & 63)] : UInt8(ascii: "="))
            out.append(index + 2 < bytes.count ? alphabet[Int(chunk & 63)] : UInt8(ascii: "="))
            index += 3
        }
        return out
    }

    /// Decodes quoted-printable (soft line breaks removed, `=XX` decoded; a stray `=` kept).
    public static func quotedPrintable(_ text: UnsafeBufferPointer<UInt8>, underscoreIsSpace: Bool = false) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(text.count)
        var index = 0
        while index < text.count {
            let byte = text[index]
            if byte == UInt8(ascii: "=") {
                if index + 1 < text.count && text[index + 1] == 0x0A { index += 2; continue }
                if index + 2 < text.count && text[index + 1] == 0x0D && text[index + 2] == 0x0A { index += 3; continue }
                if index + 2 < text.count, let high = self.hexDigitValue(text[index + 1]), let low = self.hexDigitValue(text[index + 2]) {
                    out.append(high << 4 | low)
                    index += 3
                    continue
                }
            }
            out.append(underscoreIsSpace && byte == UInt8(ascii: "_") ? 0x20 : byte)
            index += 1
        }
        return out
    }

    /// The value of one ASCII hexadecimal digit, or nil (the project's one reading of hex digits; `PercentEncoding`
    /// and the JSON reader use it too).
    @inline(__always)
    public static func hexDigitValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
