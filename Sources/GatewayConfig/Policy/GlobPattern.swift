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
    }

    /// Whether the pattern matches all of `text`.
    public func matches(_ text: String) -> Bool {
        let candidate = Array(text.unicodeScalars)
        var patternIndex = 0, textIndex = 0
        // Position after the most recent `*` and the text position it is currently assumed to stop at: on a
        // mismatch the star swallows one more character. Linear backtracking, no recursion, no blow-up.
        var starPatternIndex: Int? = nil, starTextIndex = 0
        while textIndex < candidate.count {
            if patternIndex < scalars.count, scalars[patternIndex] == "*" {
                starPatternIndex = patternIndex + 1
                starTextIndex = textIndex
                patternIndex += 1
            } else if patternIndex < scalars.count,
                scalars[patternIndex] == "?" || scalars[patternIndex] == candidate[textIndex]
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
        while patternIndex < scalars.count, scalars[patternIndex] == "*" { patternIndex += 1 }
        return patternIndex == scalars.count
    }

    /// Whether the pattern matches every string (only stars), so callers can skip matching.
    public var matchesEverything: Bool { scalars.allSatisfy { $0 == "*" } }

    public var description: String { pattern }
}
