import Foundation

/// Expands `${NAME}` references to environment variables inside configuration values.
///
/// Syntax, deliberately a small subset of the shell's:
/// - `${NAME}` is the variable's value; a variable that is not set is an error naming it, because a vendor key
///   silently becoming empty is worse than refusing to start.
/// - `${NAME:-fallback}` is the value, or `fallback` when the variable is unset or empty (as in the shell). The
///   fallback is literal text and may be empty: `${OPENAI_API_KEY:-}`.
/// - `$${` is a literal `${`. A `$` not followed by `{` is literal too, so values such as prices or regexes pass.
///
/// `NAME` is `[A-Za-z_][A-Za-z0-9_]*`.
public struct EnvironmentExpander: Sendable {
    /// Why a value could not be expanded.
    public enum Failure: Error, Sendable, Equatable {
        /// `${NAME}` without a fallback, and `NAME` is not set.
        case missingVariable(String)
        /// `${` without a closing `}`.
        case unterminatedReference
        /// The text between `${` and `}` (or before `:-`) is not a variable name.
        case invalidName(String)
    }

    /// The variables references are resolved against; injectable so tests never depend on the real environment.
    public let environment: [String: String]

    public init(environment: [String: String]) {
        self.environment = environment
    }

    /// Returns `text` with every reference replaced, or the first failure.
    public func expand(_ text: String) -> Result<String, Failure> {
        guard text.contains("$") else { return .success(text) }
        var output = ""
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            guard character == "$" else {
                output.append(character)
                index = text.index(after: index)
                continue
            }
            let rest = text[index...]
            if rest.hasPrefix("$${") {
                output += "${"
                index = text.index(index, offsetBy: 3)
            } else if rest.hasPrefix("${") {
                let bodyStart = text.index(index, offsetBy: 2)
                guard let close = text[bodyStart...].firstIndex(of: "}") else { return .failure(.unterminatedReference) }
                switch resolve(reference: text[bodyStart..<close]) {
                case .success(let value): output += value
                case .failure(let failure): return .failure(failure)
                }
                index = text.index(after: close)
            } else {
                output.append(character)
                index = text.index(after: index)
            }
        }
        return .success(output)
    }

    private func resolve(reference: Substring) -> Result<String, Failure> {
        let name: Substring
        let fallback: Substring?
        if let separator = reference.range(of: ":-") {
            name = reference[..<separator.lowerBound]
            fallback = reference[separator.upperBound...]
        } else {
            name = reference
            fallback = nil
        }
        guard Self.isVariableName(name) else { return .failure(.invalidName(String(name))) }
        if let value = environment[String(name)], !(fallback != nil && value.isEmpty) {
            return .success(value)
        }
        if let fallback { return .success(String(fallback)) }
        return .failure(.missingVariable(String(name)))
    }

    static func isVariableName(_ name: Substring) -> Bool {
        guard let first = name.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic)
        else { return false }
        return name.unicodeScalars.allSatisfy { $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) }
    }
}
