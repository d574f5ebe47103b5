import CPCRE2
import Foundation

/// Folds evasion tricks out of a text before matching, keeping an offset map (see `NormalizedText`):
///
/// - Unicode format characters (category Cf: zero-width space/joiners, BOM, bidi controls, word joiner...), the soft
///   hyphen, Hangul fillers and variation selectors are removed: they are invisible and only split tokens.
/// - Unicode tag characters U+E0020-U+E007E ("ASCII smuggling") become the ASCII characters they shadow.
/// - Fullwidth forms and every other compatibility character are NFKC-folded per scalar (`ＡＫＩＡ` -> `AKIA`).
/// - Common Cyrillic and Greek homoglyphs of Latin letters fold to the Latin letter (a small UTS #39 subset).
///
/// Pure-ASCII input needs none of this and is reported as such without copying (the fast path).
public enum TextNormalizer {
    /// Returns nil when `text` is pure ASCII (scan it as it is); otherwise the normalised copy.
    public static func normalize(_ text: UnsafeBufferPointer<UInt8>) -> NormalizedText? {
        if isASCII(text) { return nil }
        return slowNormalize(text)
    }

    /// Normalises a Swift string (tests, tools); always returns a value.
    public static func normalize(_ text: String) -> NormalizedText {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBufferPointer { slowNormalize($0) }
    }

    /// True when every byte is below 0x80 (`gw_is_ascii`: 64 bytes a step with AVX2, else eight).
    static func isASCII(_ text: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = text.baseAddress else { return true }
        return gw_is_ascii(base, text.count) != 0
    }

    private static func slowNormalize(_ text: UnsafeBufferPointer<UInt8>) -> NormalizedText {
        var output: [UInt8] = []
        var starts: [Int32] = []
        var ends: [Int32] = []
        output.reserveCapacity(text.count)
        starts.reserveCapacity(text.count)
        ends.reserveCapacity(text.count)
        var cache: [UInt32: [UInt8]] = [:]

        func emit(_ bytes: some Sequence<UInt8>, from start: Int, to end: Int) {
            for byte in bytes {
                output.append(byte)
                starts.append(Int32(start))
                ends.append(Int32(end))
            }
        }

        var index = 0
        let count = text.count
        while index < count {
            let lead = text[index]
            if lead < 0x80 {
                output.append(lead)
                starts.append(Int32(index))
                ends.append(Int32(index + 1))
                index += 1
                continue
            }
            guard let (scalarValue, length) = decodeScalar(text, at: index) else {
                // Invalid UTF-8: keep the byte as it is; the patterns are byte-oriented.
                emit(CollectionOfOne(lead), from: index, to: index + 1)
                index += 1
                continue
            }
            let end = index + length
            if scalarValue < 0x10000 {
                // The Basic Multilingual Plane from a table made once: looking Unicode properties up per scalar cost
                // 60 ns, so a body of accented text scanned at 17 MB/s (bench/rules-bench --hostile).
                let entry = BMPFolds.shared.entries[Int(scalarValue)]
                if entry == BMPFolds.keep {
                    emit(UnsafeBufferPointer(rebasing: text[index..<end]), from: index, to: end)
                } else if entry != BMPFolds.remove {
                    emit(BMPFolds.shared.replacements[Int(entry) - 2], from: index, to: end)
                }
            } else if let folded = fold(scalarValue, cache: &cache) {
                emit(folded, from: index, to: end)
            } else {
                emit(UnsafeBufferPointer(rebasing: text[index..<end]), from: index, to: end)
            }
            index = end
        }
        return NormalizedText(bytes: output, originStart: starts, originEnd: ends)
    }

    /// Decodes one UTF-8 scalar at `index`; nil when the sequence is malformed.
    static func decodeScalar(_ text: UnsafeBufferPointer<UInt8>, at index: Int) -> (UInt32, Int)? {
        let lead = text[index]
        let length: Int
        var value: UInt32
        switch lead {
        case 0xC2...0xDF: length = 2; value = UInt32(lead & 0x1F)
        case 0xE0...0xEF: length = 3; value = UInt32(lead & 0x0F)
        case 0xF0...0xF4: length = 4; value = UInt32(lead & 0x07)
        default: return nil
        }
        guard index + length <= text.count else { return nil }
        for offset in 1..<length {
            let byte = text[index + offset]
            guard byte & 0xC0 == 0x80 else { return nil }
            value = (value << 6) | UInt32(byte & 0x3F)
        }
        if length == 3 && (value < 0x800 || (0xD800...0xDFFF).contains(value)) { return nil }
        if length == 4 && (value < 0x10000 || value > 0x10FFFF) { return nil }
        return (value, length)
    }

    /// The replacement bytes for a non-ASCII scalar, or nil to keep it unchanged. Empty means "remove".
    static func fold(_ value: UInt32, cache: inout [UInt32: [UInt8]]) -> [UInt8]? {
        switch value {
        case 0xE0020...0xE007E: return [UInt8(value - 0xE0000)]
        case 0xE0000...0xE007F: return []
        case 0xFF01...0xFF5E: return [UInt8(value - 0xFEE0)]
        case 0x3000: return [0x20]
        case 0x00AD, 0x034F, 0x061C, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180B...0x180F, 0x200B...0x200F, 0x202A...0x202E,
            0x2060...0x206F, 0x3164, 0xFE00...0xFE0F, 0xFEFF, 0xFFA0, 0xFFF9...0xFFFB, 0x1D173...0x1D17A,
            0xE0100...0xE01EF:
            return []
        default: break
        }
        if let homoglyph = homoglyphs[value] { return [homoglyph] }
        guard let scalar = Unicode.Scalar(value) else { return nil }
        if scalar.properties.generalCategory == .format { return [] }
        guard scalar.properties.changesWhenNFKCCaseFolded else { return nil }
        if let cached = cache[value] { return cached }
        let folded = String(Character(scalar)).precomposedStringWithCompatibilityMapping
        let bytes = Array(folded.utf8)
        let original = Array(String(Character(scalar)).utf8)
        let result: [UInt8]? = bytes == original ? nil : bytes
        cache[value] = result
        return result
    }

    /// Cyrillic and Greek letters that render like Latin ones (subset of Unicode confusables.txt).
    static let homoglyphs: [UInt32: UInt8] = {
        let pairs: [(UInt32, Character)] = [
            (0x0430, "a"), (0x0435, "e"), (0x043E, "o"), (0x0440, "p"), (0x0441, "c"), (0x0443, "y"), (0x0445, "x"),
            (0x0455, "s"), (0x0456, "i"), (0x0458, "j"), (0x0501, "d"), (0x04BB, "h"), (0x0410, "A"), (0x0412, "B"),
            (0x0415, "E"), (0x041A, "K"), (0x041C, "M"), (0x041D, "H"), (0x041E, "O"), (0x0420, "P"), (0x0421, "C"),
            (0x0422, "T"), (0x0425, "X"), (0x0405, "S"), (0x0406, "I"), (0x0408, "J"), (0x0391, "A"), (0x0392, "B"),
            (0x0395, "E"), (0x0396, "Z"), (0x0397, "H"), (0x0399, "I"), (0x039A, "K"), (0x039C, "M"), (0x039D, "N"),
            (0x039F, "O"), (0x03A1, "P"), (0x03A4, "T"), (0x03A5, "Y"), (0x03A7, "X"), (0x03BF, "o"), (0x03B1, "a"),
            (0x2010, "-"), (0x2011, "-"), (0x2012, "-"), (0x2013, "-"), (0x2212, "-"), (0x00A0, " "),
        ]
        var table: [UInt32: UInt8] = [:]
        for (code, letter) in pairs { table[code] = letter.asciiValue! }
        return table
    }()
}

/// `TextNormalizer.fold` for every scalar below U+10000, computed once: `entries[scalar]` is `keep`, `remove`, or
/// 2 + an index into `replacements`.
final class BMPFolds: Sendable {
    static let keep: UInt16 = 0
    static let remove: UInt16 = 1
    /// Built on first use; `BodyInspector.init` touches it so that no request pays for it.
    static let shared = BMPFolds()

    let entries: [UInt16]
    let replacements: [[UInt8]]

    private init() {
        var entries = [UInt16](repeating: Self.keep, count: 0x10000)
        var replacements: [[UInt8]] = []
        var indexOf: [[UInt8]: UInt16] = [:]
        var cache: [UInt32: [UInt8]] = [:]
        for value in UInt32(0x80)..<0x10000 where !(0xD800...0xDFFF).contains(value) {
            guard let folded = TextNormalizer.fold(value, cache: &cache) else { continue }
            if folded.isEmpty {
                entries[Int(value)] = Self.remove
            } else if let known = indexOf[folded] {
                entries[Int(value)] = known
            } else {
                let entry = UInt16(replacements.count + 2)
                replacements.append(folded)
                indexOf[folded] = entry
                entries[Int(value)] = entry
            }
        }
        self.entries = entries
        self.replacements = replacements
    }
}
