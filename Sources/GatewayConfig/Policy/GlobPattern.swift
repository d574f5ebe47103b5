/// A glob over names and paths: `*` matches any run of characters (including none and including `/`), `?`
/// matches exactly one character, everything else matches itself, case-sensitively.
///
/// The syntax is deliberately this small so a policy means what it looks like: brackets, braces and backslashes
/// are refused rather than taken literally, so `gpt-[45]*` is an error instead of a pattern that never matches.
public struct GlobPattern: Sendable, Hashable, CustomStringConvertible {
    /// Why a pattern was refused.
    public enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        case empty
        case unsupportedCharacter(Character)
        case controlCharacter

        public var description: String {
            switch self {
            case .empty: "a glob must not be empty (use \"*\" to match everything)"
            case .unsupportedCharacter(let character):
                "'\(character)' is not supported in globs (only '*' and '?' are special)"
            case .controlCharacter: "a glob must not contain control characters"
            }
        }
    }

    /// The pattern as written.
    public let pattern: String
    private let scalars: [Unicode.Scalar]
    /// The pattern's bytes when it is ASCII: an ASCII text is then matched on its UTF-8 bytes (one byte per
    /// scalar, so `?` still means one character) without copying it into an array.
    private let asciiBytes: [UInt8]?
    /// Whether the pattern matches every string (only stars), so callers can skip matching.
    public let matchesEverything: Bool

    public init(_ pattern: String) throws(Failure) {
        guard !pattern.isEmpty else { throw .empty }
        for character in pattern {
            if "[]{}\\".contains(character) { throw .unsupportedCharacter(character) }
            if character.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
                throw .controlCharacter
            }
        }
        self.pattern = pattern
        self.scalars = Array(pattern.unicodeScalars)
        self.asciiBytes = pattern.utf8.allSatisfy { $0 < 0x80 } ? Array(pattern.utf8) : nil
        self.matchesEverything = self.scalars.allSatisfy { $0 == "*" }
    }

    /// Whether the pattern matches all of `text`.
    public func matches(_ text: String) -> Bool {
        if self.matchesEverything { return true }
        if let pattern = self.asciiBytes {
            var text = text
            let matched: Bool? = text.withUTF8 { bytes in
                guard bytes.allSatisfy({ $0 < 0x80 }) else { return nil }
                return pattern.withUnsafeBufferPointer {
                    Self.matches(pattern: $0, text: bytes, star: UInt8(ascii: "*"), one: UInt8(ascii: "?"))
                }
            }
            if let matched { return matched }
        }
        let candidate = Array(text.unicodeScalars)
        return self.scalars.withUnsafeBufferPointer { pattern in
            candidate.withUnsafeBufferPointer { Self.matches(pattern: pattern, text: $0, star: "*", one: "?") }
        }
    }

    private static func matches<Element: Equatable>(
        pattern scalars: UnsafeBufferPointer<Element>, text candidate: UnsafeBufferPointer<Element>, star: Element,
        one: Element
    ) -> Bool {
        var patternIndex = 0, textIndex = 0
        // Position after the most recent `*` and the text position it is currently assumed to stop at: on a
        // mismatch the star swallows one more character. Linear backtracking, no recursion, no blow-up.
        var starPatternIndex: Int? = nil, starTextIndex = 0
        while textIndex < candidate.count {
            if patternIndex < scalars.count, scalars[patternIndex] == star {
                starPatternIndex = patternIndex + 1
                starTextIndex = textIndex
                patternIndex += 1
            } else if patternIndex < scalars.count,
                scalars[patternIndex] == one || scalars[patternIndex] == candidate[textIndex]
            {
                patternIndex += 1
                textIndex += 1
            } else if let resume = starPatternIndex {
                starTextIndex += 1
                textIndex = starTextIndex
                patternIndex = resume
            } else {
                return false
            }
        }
        while patternIndex < scalars.count, scalars[patternIndex] == star { patternIndex += 1 }
        return patternIndex == scalars.count
    }

    public var description: String { pattern }
}
