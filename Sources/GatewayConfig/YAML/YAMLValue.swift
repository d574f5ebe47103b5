import Yams

/// One value of a YAML document with its key path, read into Swift types with every failure collected as a
/// problem instead of thrown, so one load reports everything that is wrong.
///
/// Every scalar goes through `${NAME}` expansion before it is interpreted, so numbers and booleans can come from
/// the environment too (`port: ${GATEWAY_PORT:-8443}`).
struct YAMLValue {
    let document: YAMLDocument
    let path: ConfigKeyPath
    let node: Node

    var line: Int? { node.mark?.line }

    func problem(_ message: String) {
        document.diagnostics.problem(document.file, path, message, line: line)
    }

    func warning(_ message: String) {
        document.diagnostics.warning(document.file, path, message, line: line)
    }

    /// YAML's null (`~`, `null`, or nothing after the colon); treated as "not set" so defaults apply.
    var isNull: Bool {
        guard case .scalar(let scalar) = node, scalar.style == .plain else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    private var kindName: String {
        switch node {
        case .scalar: "a single value"
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .alias: "an alias"
        }
    }

    /// The expanded text of a scalar; nil (with a problem collected) for lists, mappings and failed expansion.
    func text() -> String? {
        guard case .scalar(let scalar) = node else {
            problem("expected a single value, found \(kindName)")
            return nil
        }
        switch document.expander.expand(scalar.string) {
        case .success(let expanded):
            return expanded
        case .failure(.missingVariable(let name)):
            problem("environment variable \(name) is not set (write ${\(name):-} to make it optional)")
        case .failure(.unterminatedReference):
            problem("'${' without a closing '}' (write '$${' for a literal '${')")
        case .failure(.invalidName(let name)):
            problem("'\(name)' is not an environment variable name (letters, digits and '_'; write '$${' for a literal '${')")
        }
        return nil
    }

    func string() -> String? { text() }

    /// A whole number inside `range`. Underscores between digits are allowed (`8_388_608`) as YAML 1.1 allows.
    func int(in range: ClosedRange<Int>) -> Int? {
        guard let text = text() else { return nil }
        let digits = text.replacingUnderscores()
        guard let value = Int(digits) else {
            problem("expected a whole number, found '\(text)'")
            return nil
        }
        guard range.contains(value) else {
            problem("\(value) is out of range: expected \(range.describedForHumans)")
            return nil
        }
        return value
    }

    func bool() -> Bool? {
        guard let text = text() else { return nil }
        switch text.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default:
            problem("expected true or false, found '\(text)'")
            return nil
        }
    }

    /// One of the raw values of `Choice`, listed in the problem when the value is not one of them.
    func choice<Choice: RawRepresentable & CaseIterable>(_: Choice.Type) -> Choice? where Choice.RawValue == String {
        guard let text = text() else { return nil }
        if let choice = Choice(rawValue: text) { return choice }
        let allowed = Choice.allCases.map { $0.rawValue }.joined(separator: ", ")
        problem("'\(text)' is not one of: \(allowed)")
        return nil
    }

    func mapping() -> YAMLMapping? {
        guard case .mapping(let mapping) = node else {
            problem("expected a mapping (key: value), found \(kindName)")
            return nil
        }
        var entries: [YAMLMapping.Entry] = []
        for (keyNode, valueNode) in mapping {
            guard case .scalar(let keyScalar) = keyNode else {
                document.diagnostics.problem(
                    document.file, path, "mapping keys must be plain names", line: keyNode.mark?.line)
                continue
            }
            entries.append(YAMLMapping.Entry(key: keyScalar.string, node: valueNode))
        }
        return YAMLMapping(document: document, path: path, entries: entries, mark: node.mark)
    }

    func sequence() -> [YAMLValue]? {
        guard case .sequence(let sequence) = node else {
            problem("expected a list, found \(kindName)")
            return nil
        }
        return sequence.enumerated().map { offset, element in
            YAMLValue(document: document, path: path.appending(index: offset), node: element)
        }
    }
}

extension String {
    fileprivate func replacingUnderscores() -> String {
        guard contains("_"), first != "_", last != "_" else { return self }
        return String(filter { $0 != "_" })
    }
}

extension ClosedRange<Int> {
    fileprivate var describedForHumans: String {
        upperBound == Int.max ? "\(lowerBound) or more" : "\(lowerBound)...\(upperBound)"
    }
}
