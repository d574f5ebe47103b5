/// The digit-group shape a digit-run rule's matches must have (`digit_shape:` in a rule file). The engine records,
/// for every digit run it finds, which shapes occur in it; a rule with a shape only runs on windows holding one.
/// A "group" is a maximal sequence of consecutive ASCII digits; "same separator" means the groups are separated by
/// one byte each, the same byte, from the listed set. Each shape is a necessary condition derived from the pattern
/// (look-arounds make the group lengths exact); the rules' examples and the equivalence tests check them.
public enum DigitShape: String, Sendable, Hashable, CaseIterable {
    /// US SSN: groups 3, 2, 4 with the same separator from `-`, space or `.`.
    case ssn
    /// Canadian SIN: groups 3, 3, 3 with the same separator from `-` or space.
    case sin
    /// A group of exactly 9 digits (bare SSN, SIN, ABA routing number).
    case nine
    /// Payment card: a group of 13-19 digits, or groups 4, 4, 4, 4 or 4, 6, 4|5 with the same separator from space or `-`.
    case card
    /// Phone: a `+` right before a digit, or groups 3 and 4 separated by one byte from space, `.` or `-`.
    case phone
    /// UK NINO: six digits in whole pairs (`123456`, `12 34 56`, `12 3456`; single spaces) right after two ASCII letters
    /// of either case, directly or through one space.
    case nino
    /// IBAN: two upper-case ASCII letters right before two digits (anywhere in the window, any run length).
    case iban

    var bit: UInt16 { 1 << UInt16(DigitShape.allCases.firstIndex(of: self)!) }
    static let ssnBit: UInt16 = DigitShape.ssn.bit
    static let sinBit: UInt16 = DigitShape.sin.bit
    static let nineBit: UInt16 = DigitShape.nine.bit
    static let cardBit: UInt16 = DigitShape.card.bit
    static let phoneBit: UInt16 = DigitShape.phone.bit
    static let ninoBit: UInt16 = DigitShape.nino.bit
    static let ibanBit: UInt16 = DigitShape.iban.bit
}

/// A set of bytes (256 bits).
struct ByteSet: Sendable, Hashable {
    private var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    static func == (left: ByteSet, right: ByteSet) -> Bool { left.words == right.words }
    func hash(into hasher: inout Hasher) {
        hasher.combine(self.words.0); hasher.combine(self.words.1); hasher.combine(self.words.2); hasher.combine(self.words.3)
    }

    init() {}

    /// Parses the body of a character class: single bytes and `a-z` ranges; a `-` first or last is literal.
    /// ASCII only, no escapes; nil when malformed or empty.
    init?(classSpelling spelling: String) {
        let bytes = Array(spelling.utf8)
        guard !bytes.isEmpty, bytes.allSatisfy({ $0 < 0x80 && $0 != UInt8(ascii: "\\") && $0 != UInt8(ascii: "]") })
        else { return nil }
        var index = 0
        while index < bytes.count {
            if index + 2 < bytes.count, bytes[index + 1] == UInt8(ascii: "-") {
                guard bytes[index] <= bytes[index + 2] else { return nil }
                for byte in bytes[index]...bytes[index + 2] { self.insert(byte) }
                index += 3
            } else {
                self.insert(bytes[index])
                index += 1
            }
        }
    }

    mutating func insert(_ byte: UInt8) {
        let bit = UInt64(1) << UInt64(byte & 63)
        switch byte >> 6 {
        case 0: self.words.0 |= bit
        case 1: self.words.1 |= bit
        case 2: self.words.2 |= bit
        default: self.words.3 |= bit
        }
    }

    @inline(__always) func contains(_ byte: UInt8) -> Bool {
        let bit = UInt64(1) << UInt64(byte & 63)
        switch byte >> 6 {
        case 0: return self.words.0 & bit != 0
        case 1: return self.words.1 & bit != 0
        case 2: return self.words.2 & bit != 0
        default: return self.words.3 & bit != 0
        }
    }
}
