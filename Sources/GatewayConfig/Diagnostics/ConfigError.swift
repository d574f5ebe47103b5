/// Thrown when a configuration (or the policy it references) cannot be used: it carries every problem found,
/// not only the first, so an operator can fix the file in one pass.
public struct ConfigError: Error, Sendable, CustomStringConvertible {
    /// Every problem, in the order they were found. Never empty.
    public let problems: [ConfigProblem]
    /// Warnings found on the way; reported alongside the problems so nothing is lost.
    public let warnings: [ConfigWarning]

    public init(problems: [ConfigProblem], warnings: [ConfigWarning] = []) {
        self.problems = problems
        self.warnings = warnings
    }

    /// One problem per line, `FILE: key.path: message`.
    public var description: String {
        problems.map(\.description).joined(separator: "\n")
    }
}
