import Yams

/// A parsed YAML file together with what every reader of it needs: the file name for messages, the environment
/// for `${NAME}` expansion and the collector problems go to.
final class YAMLDocument {
    /// The file name as written in messages.
    let file: String
    let expander: EnvironmentExpander
    let diagnostics: DiagnosticCollector
    /// The root node, or nil when the file is empty or could not be parsed (the reason is already collected).
    let root: Node?
    /// False when the text is not valid YAML; nothing in it is then read, so one syntax error is one problem.
    let isParsed: Bool

    init(file: String, text: String, expander: EnvironmentExpander, diagnostics: DiagnosticCollector) {
        self.file = file
        self.expander = expander
        self.diagnostics = diagnostics
        do {
            root = try Yams.compose(yaml: text)
            isParsed = true
        } catch let error as YamlError {
            root = nil
            isParsed = false
            Self.reportSyntaxError(error, file: file, diagnostics: diagnostics)
        } catch {
            root = nil
            isParsed = false
            diagnostics.problem(file, .root, "cannot parse YAML: \(error)")
        }
    }

    /// The root as a mapping reader; an empty file is treated as an empty mapping so defaults apply. Nil when the
    /// file did not parse or its root is not a mapping (both already reported).
    func rootMapping() -> YAMLMapping? {
        guard isParsed else { return nil }
        guard let root else { return YAMLMapping(document: self, path: .root, entries: [], mark: nil) }
        return YAMLValue(document: self, path: .root, node: root).mapping()
    }

    /// Turns libyaml's error into one problem with a line and column and without the multi-line snippet.
    private static func reportSyntaxError(_ error: YamlError, file: String, diagnostics: DiagnosticCollector) {
        switch error {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _),
            let .composer(context, problem, mark, _):
            let contextText = context.map { " (\($0.text) at line \($0.mark.line), column \($0.mark.column))" } ?? ""
            diagnostics.problem(
                file, .root, "YAML syntax error: \(problem)\(contextText)", line: mark.line, column: mark.column)
        case let .duplicatedKeysInMapping(duplicates, context):
            diagnostics.problem(
                file, .root, "duplicate key(s) \(duplicates.sorted().map { "'\($0)'" }.joined(separator: ", "))",
                line: context.mark.line, column: context.mark.column)
        default:
            diagnostics.problem(file, .root, "YAML syntax error: \(error)")
        }
    }
}
