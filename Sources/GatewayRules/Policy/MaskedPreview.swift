/// Renders a value for logs without revealing it.
enum MaskedPreview {
    /// Secrets keep their first 4 characters (usually the public type prefix) and the length; payment data keeps the
    /// last 4 digits; everything else keeps the first and last character and the length.
    static func make(_ value: String, category: Category) -> String {
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
}
