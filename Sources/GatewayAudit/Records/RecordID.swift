import GatewayCrypto

/// A time-ordered record id in the UUIDv7 layout (RFC 9562): 48 bits of Unix milliseconds, then 74 random bits
/// from OpenSSL. Ids sort by creation time as text, and are unguessable.
public struct RecordID: Sendable, Hashable, Codable, Comparable, CustomStringConvertible {
    /// The canonical lower-case text, e.g. `01920c4e-7b1a-7c3d-9e2f-0a1b2c3d4e5f`.
    public let rawValue: String

    /// A fresh id for `milliseconds` since the Unix epoch (default: now).
    public static func generate(milliseconds: UInt64 = UTCTime.nowMilliseconds()) -> RecordID {
        var bytes = Crypto.identifierBytes(count: 16)
        for index in 0..<6 { bytes[index] = UInt8(truncatingIfNeeded: milliseconds >> (8 * (5 - index))) }
        bytes[6] = 0x70 | (bytes[6] & 0x0f)
        bytes[8] = 0x80 | (bytes[8] & 0x3f)
        var text: [UInt8] = []
        text.reserveCapacity(36)
        for group in [0..<4, 4..<6, 6..<8, 8..<10, 10..<16] {  // 8-4-4-4-12 hex digits
            if group.lowerBound > 0 { text.append(UInt8(ascii: "-")) }
            Crypto.appendHex(bytes[group], to: &text)
        }
        return RecordID(uncheckedRawValue: String(decoding: text, as: UTF8.self))
    }

    /// Parses an id; nil unless it is 36 characters of lower-case hex and dashes in the UUID layout.
    public init?(_ text: String) {
        let lowered = text.lowercased()
        let chars = Array(lowered)
        guard chars.count == 36 else { return nil }
        for (index, char) in chars.enumerated() {
            if [8, 13, 18, 23].contains(index) {
                guard char == "-" else { return nil }
            } else {
                guard char.isHexDigit else { return nil }
            }
        }
        self.rawValue = lowered
    }

    private init(uncheckedRawValue: String) { self.rawValue = uncheckedRawValue }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let id = RecordID(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "bad record id"))
        }
        self = id
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(self.rawValue)
    }

    public static func < (lhs: RecordID, rhs: RecordID) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { self.rawValue }
}

extension RecordID {
    /// The short form tables print, like a git short hash: the last 8 hex digits, which are random (the first
    /// twelve are the creation time, shared by ids made in the same millisecond).
    public var short: String { String(self.rawValue.suffix(8)) }

    /// Why `resolve` found no single record.
    public enum ResolveError: Error, CustomStringConvertible, Equatable {
        case malformed(String)
        case notFound(String)
        case ambiguous(String, [RecordID])

        public var description: String {
            switch self {
            case .malformed(let text):
                "'\(text)' is not a record id (a full id, or at least 6 of its hex digits from its start or its end)"
            case .notFound(let text): "no record id starts or ends with '\(text)'"
            case .ambiguous(let text, let ids):
                "'\(text)' fits \(ids.count) records: " + ids.prefix(5).map(\.rawValue).joined(separator: ", ")
                    + (ids.count > 5 ? ", …" : "") + "; give more digits"
            }
        }
    }

    /// The one id among `ids` that `text` names: a full id, or at least 6 hex digits that begin or end exactly one
    /// of them (dashes optional), as `gatewayctl log` prints short ids.
    public static func resolve(_ text: String, among ids: some Sequence<RecordID>) -> Result<RecordID, ResolveError> {
        if let full = RecordID(text) { return .success(full) }
        let digits = text.lowercased().filter { $0 != "-" }
        guard digits.count >= 6, digits.allSatisfy(\.isHexDigit) else { return .failure(.malformed(text)) }
        var matches: [RecordID] = []
        for id in ids {
            let compact = id.rawValue.filter { $0 != "-" }
            if compact.hasSuffix(digits) || compact.hasPrefix(digits) { matches.append(id) }
        }
        switch matches.count {
        case 0: return .failure(.notFound(text))
        case 1: return .success(matches[0])
        default: return .failure(.ambiguous(text, matches))
        }
    }
}
