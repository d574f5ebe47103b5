/// Bounds for the short, operator-meaningful strings a record may hold (user names, model names, paths).
///
/// A decision record has no field that can carry a request body, and every free string in it passes through
/// `SafeLabel.clean`: at most `maxLength` characters, control characters replaced by `?`. That bounds what a
/// mistaken caller could smuggle in (a prompt cannot fit in 128 characters with its meaning intact, and nothing
/// multi-line survives).
public enum SafeLabel {
    /// The longest label a record keeps; longer input is cut and marked with `…`.
    public static let maxLength = 128

    /// `text` cut to `limit` characters, control characters replaced by `?`.
    public static func clean(_ text: String, limit: Int = SafeLabel.maxLength) -> String {
        // Nearly every label is short printable ASCII: nothing to cut or replace.
        if text.utf8.count <= limit, text.everyUTF8Byte(where: { $0 >= 0x20 && $0 < 0x7F }) { return text }
        var out = ""
        var count = 0
        for scalar in text.unicodeScalars {
            if count == limit {
                out.append("…")
                break
            }
            out.unicodeScalars.append(scalar.properties.generalCategory == .control ? "?" : scalar)
            count += 1
        }
        return out
    }

    /// `clean` for optional values.
    public static func clean(_ text: String?, limit: Int = SafeLabel.maxLength) -> String? {
        text.map { clean($0, limit: limit) }
    }

    /// A request target without its query string (queries can carry tokens), cleaned.
    public static func path(_ target: String) -> String {
        // Searched as bytes: a `Character` search segments the whole target into grapheme clusters.
        clean(target.utf8.firstIndex(of: UInt8(ascii: "?")).map { String(target[..<$0]) } ?? target, limit: 256)
    }
}

/// A machine-readable reason such as `rule_match`, `auth.missing_key` or `upstream.timeout`.
///
/// Only `[a-z0-9_.:-]` survive (anything else becomes `_`) and at most 64 characters, so a reason can never hold
/// free text, let alone a value from the body.
public struct ReasonCode: Sendable, Hashable, Codable, CustomStringConvertible, ExpressibleByStringLiteral {
    public let rawValue: String

    public init(_ text: String) {
        // The gateway's own codes are already clean: keep them as they are without mapping each character.
        if !text.isEmpty, text.utf8.count <= 64, text.everyUTF8Byte(where: Self.isAllowed) {
            self.rawValue = text
            return
        }
        let mapped = text.lowercased().prefix(64).map { $0.asciiValue.map(Self.isAllowed) == true ? $0 : "_" }
        self.rawValue = mapped.isEmpty ? "unspecified" : String(mapped)
    }

    /// `[a-z0-9_.:-]`: the one definition of what a reason may hold.
    private static func isAllowed(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"),
            UInt8(ascii: "."), UInt8(ascii: ":"), UInt8(ascii: "-"):
            true
        default: false
        }
    }

    public init(stringLiteral value: String) { self.init(value) }

    public init(from decoder: any Decoder) throws {
        self.init(try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(self.rawValue)
    }

    public var description: String { self.rawValue }
}

extension String {
    /// Whether every UTF-8 byte satisfies `predicate`, over the contiguous storage native strings have (the
    /// generic `UTF8View` iteration costs several times more on the decision log's hot path).
    func everyUTF8Byte(where predicate: (UInt8) -> Bool) -> Bool {
        if let result = self.utf8.withContiguousStorageIfAvailable({ bytes in bytes.allSatisfy(predicate) }) {
            return result
        }
        return self.utf8.allSatisfy(predicate)
    }
}
