/// One problem found while loading rule files.
public struct RuleProblem: Sendable, Hashable, CustomStringConvertible {
    /// The rule file (path as given).
    public let file: String
    /// The rule id, or nil for file-level problems (unreadable file, YAML syntax).
    public let ruleID: String?
    public let message: String
    /// Byte offset in the pattern for PCRE2 compile errors.
    public let patternOffset: Int?

    public init(file: String, ruleID: String?, message: String, patternOffset: Int? = nil) {
        self.file = file
        self.ruleID = ruleID
        self.message = message
        self.patternOffset = patternOffset
    }

    public var description: String {
        var text = self.file
        if let ruleID { text += ": rule \(ruleID)" }
        text += ": \(self.message)"
        if let patternOffset { text += " (pattern offset \(patternOffset))" }
        return text
    }
}

/// Loading failed; `problems` lists every problem in every file, not just the first.
public struct RuleLoadError: Error, Sendable, CustomStringConvertible {
    public let problems: [RuleProblem]
    public init(problems: [RuleProblem]) { self.problems = problems }
    public var description: String {
        "\(self.problems.count) rule problem(s):\n" + self.problems.map { "  " + $0.description }.joined(separator: "\n")
    }
}
