import Yams

/// A YAML mapping being read key by key. It remembers which keys the reader asked for, so `finish()` can report
/// every other key as unknown: a typo such as `max_body_byte` must not silently fall back to a default.
final class YAMLMapping {
    struct Entry {
        let key: String
        let node: Node
    }

    let document: YAMLDocument
    let path: ConfigKeyPath
    let entries: [Entry]
    let mark: Mark?
    private var knownKeys: Set<String> = []

    init(document: YAMLDocument, path: ConfigKeyPath, entries: [Entry], mark: Mark?) {
        self.document = document
        self.path = path
        self.entries = entries
        self.mark = mark
    }

    /// The value for `key`, or nil when absent or null. Marks `key` as known.
    func value(_ key: String) -> YAMLValue? {
        knownKeys.insert(key)
        guard let entry = entries.first(where: { $0.key == key }) else { return nil }
        let value = YAMLValue(document: document, path: path.appending(key: key), node: entry.node)
        return value.isNull ? nil : value
    }

    /// Reports a problem on a key that is absent but required.
    func missing(_ key: String, _ explanation: String = "") {
        document.diagnostics.problem(
            document.file, path.appending(key: key),
            "required key is missing" + (explanation.isEmpty ? "" : ": " + explanation), line: mark?.line)
    }

    func string(_ key: String, default fallback: String) -> String {
        value(key)?.string() ?? fallback
    }

    func optionalString(_ key: String) -> String? {
        value(key)?.string()
    }

    func requiredString(_ key: String, _ explanation: String = "") -> String? {
        guard let value = value(key) else {
            missing(key, explanation)
            return nil
        }
        return value.string()
    }

    func int(_ key: String, default fallback: Int, in range: ClosedRange<Int>) -> Int {
        value(key)?.int(in: range) ?? fallback
    }

    func optionalInt(_ key: String, in range: ClosedRange<Int>) -> Int? {
        value(key)?.int(in: range)
    }

    func bool(_ key: String, default fallback: Bool) -> Bool {
        value(key)?.bool() ?? fallback
    }

    func choice<Choice: RawRepresentable & CaseIterable>(_ key: String, default fallback: Choice) -> Choice
    where Choice.RawValue == String {
        value(key)?.choice(Choice.self) ?? fallback
    }

    func optionalChoice<Choice: RawRepresentable & CaseIterable>(_ key: String, _: Choice.Type) -> Choice?
    where Choice.RawValue == String {
        value(key)?.choice(Choice.self)
    }

    /// Reads the nested mapping at `key` with `body` and reports its unknown keys. An absent section is read as an
    /// empty mapping (without a line: nothing was written) so every default applies; a section of the wrong type
    /// is reported and also read as empty.
    func section<Result>(_ key: String, _ body: (YAMLMapping) -> Result) -> Result {
        let nested = value(key).flatMap { $0.mapping() }
            ?? YAMLMapping(document: document, path: path.appending(key: key), entries: [], mark: nil)
        let result = body(nested)
        nested.finish()
        return result
    }

    /// Every entry, for mappings whose keys are names chosen by the operator (roles, categories). Marks all known.
    func allEntries() -> [(key: String, value: YAMLValue)] {
        entries.map { entry in
            knownKeys.insert(entry.key)
            return (entry.key, YAMLValue(document: document, path: path.appending(key: entry.key), node: entry.node))
        }
    }

    /// Reports every key nobody asked for, with the closest known key as a suggestion.
    func finish() {
        for entry in entries where !knownKeys.contains(entry.key) {
            var message = "unknown key '\(entry.key)'"
            if let suggestion = Self.closest(to: entry.key, among: knownKeys) {
                message += " (did you mean '\(suggestion)'?)"
            } else if !knownKeys.isEmpty {
                message += " (known keys: \(knownKeys.sorted().joined(separator: ", ")))"
            }
            document.diagnostics.problem(
                document.file, path.appending(key: entry.key), message, line: entry.node.mark?.line)
        }
    }

    private static func closest(to key: String, among candidates: Set<String>) -> String? {
        let scored = candidates.map { ($0, editDistance(key, $0)) }.filter { $0.1 <= max(2, key.count / 3) }
        return scored.min { ($0.1, $0.0) < ($1.1, $1.0) }?.0
    }

    private static func editDistance(_ lhs: String, _ rhs: String) -> Int {
        let left = Array(lhs.lowercased()), right = Array(rhs.lowercased())
        if left.isEmpty || right.isEmpty { return max(left.count, right.count) }
        var previous = Array(0...right.count)
        for (i, leftCharacter) in left.enumerated() {
            var current = [i + 1] + Array(repeating: 0, count: right.count)
            for (j, rightCharacter) in right.enumerated() {
                current[j + 1] = min(previous[j + 1] + 1, current[j] + 1, previous[j] + (leftCharacter == rightCharacter ? 0 : 1))
            }
            previous = current
        }
        return previous[right.count]
    }
}
