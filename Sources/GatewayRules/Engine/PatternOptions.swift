import CPCRE2

/// Compile options a rule file may ask for (`flags: [caseless, multiline, ...]`).
public struct PatternOptions: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let caseless = PatternOptions(rawValue: UInt32(PCRE2_CASELESS))
    public static let multiline = PatternOptions(rawValue: UInt32(PCRE2_MULTILINE))
    public static let dotAll = PatternOptions(rawValue: UInt32(PCRE2_DOTALL))
    public static let extended = PatternOptions(rawValue: UInt32(PCRE2_EXTENDED))
    public static let ungreedy = PatternOptions(rawValue: UInt32(PCRE2_UNGREEDY))
    /// Match only at the start offset (engine use: not available to rule files).
    static let anchored = PatternOptions(rawValue: UInt32(PCRE2_ANCHORED))

    /// The names accepted in rule files, mapped to options.
    public static let byName: [String: PatternOptions] = [
        "caseless": .caseless, "i": .caseless,
        "multiline": .multiline, "m": .multiline,
        "dotall": .dotAll, "s": .dotAll,
        "extended": .extended, "x": .extended,
        "ungreedy": .ungreedy, "U": .ungreedy,
    ]
}
