/// Renders a value for logs without revealing it.
enum MaskedPreview {
    /// Secrets keep their first 4 characters (usually the public type prefix) and the length; payment data keeps the
    /// last 4 digits; everything else keeps the first and last character and the length.
    static func make(_ value: String, category: Category) -> String {
        if let fast = asciiFast(value, category: category) { return fast }
        let characters = Array(value)
        if category == .pci {
            let digits = characters.filter(\.isNumber)
            return "…" + String(digits.suffix(4))
        }
        if category == .secret {
            return String(characters.prefix(min(4, characters.count / 4))) + "…(\(characters.count) chars)"
        }
        guard characters.count > 4 else { return "…(\(characters.count) chars)" }
        return "\(characters.first!)…\(characters.last!)(\(characters.count) chars)"
    }

    /// The same rendering for ASCII values without CR (where every byte is one Character), without building an
    /// array of Characters.
    private static func asciiFast(_ value: String, category: Category) -> String? {
        var value = value
        return value.withUTF8 { bytes -> String? in
            for byte in bytes where byte >= 0x80 || byte == 0x0D { return nil }
            let count = bytes.count
            if category == .pci {
                var digits: [UInt8] = []
                for byte in bytes.reversed() where byte &- 48 < 10 {
                    digits.append(byte)
                    if digits.count == 4 { break }
                }
                return "…" + String(decoding: digits.reversed(), as: UTF8.self)
            }
            if category == .secret {
                return String(decoding: UnsafeBufferPointer(rebasing: bytes[0..<min(4, count / 4)]), as: UTF8.self)
                    + "…(\(count) chars)"
            }
            guard count > 4 else { return "…(\(count) chars)" }
            return String(decoding: CollectionOfOne(bytes[0]), as: UTF8.self) + "…"
                + String(decoding: CollectionOfOne(bytes[count - 1]), as: UTF8.self) + "(\(count) chars)"
        }
    }
}
