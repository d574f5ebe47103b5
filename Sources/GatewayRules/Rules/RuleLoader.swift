import Foundation
import GatewayCrypto
import Yams

/// Reads rule files, compiles every rule with PCRE2 (JIT) and checks every rule's examples.
///
/// Contract: either returns a complete `RuleSet` in which every rule compiled and every example held, or throws a
/// `RuleLoadError` listing every problem of every file (file, rule id, message, PCRE2 offset) so start-up can stop
/// with one report.
public enum RuleLoader {
    /// Minimum confidence the examples are checked against (the default policy's threshold).
    public static let exampleConfidence = 0.5

    /// Loads every `*.yaml` / `*.yml` file in `directory` (sorted by name), and, when `shadowDirectory` is given,
    /// every rule file in it as a candidate set: all of its rules run in shadow mode, whatever their `mode`, and may
    /// reuse a live rule's id (a candidate version of that rule).
    public static func load(directory: String, shadowDirectory: String? = nil, limits: MatchLimits = .default)
        throws(RuleLoadError) -> RuleSet
    {
        var (files, problems) = readFiles(in: directory, mayBeEmpty: false)
        var shadowFiles: [(name: String, contents: String)] = []
        if let shadowDirectory {
            let shadow = readFiles(in: shadowDirectory, mayBeEmpty: true)
            shadowFiles = shadow.files
            problems += shadow.problems
        }
        do throws(RuleLoadError) {
            let set = try load(files: files, shadowFiles: shadowFiles, limits: limits)
            if !problems.isEmpty { throw RuleLoadError(problems: problems) }
            return set
        } catch {
            throw RuleLoadError(problems: problems + error.problems)
        }
    }

    /// The `*.yaml` / `*.yml` files of `directory`, sorted by name, with a problem for each that cannot be read.
    private static func readFiles(in directory: String, mayBeEmpty: Bool)
        -> (files: [(name: String, contents: String)], problems: [RuleProblem])
    {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
                .filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
        } catch {
            return ([], [RuleProblem(file: directory, ruleID: nil, message: "cannot list rule directory: \(error.localizedDescription)")])
        }
        if names.isEmpty && !mayBeEmpty {
            return ([], [RuleProblem(file: directory, ruleID: nil, message: "no rule files (*.yaml) found")])
        }
        var files: [(name: String, contents: String)] = []
        var problems: [RuleProblem] = []
        for name in names {
            let path = (directory as NSString).appendingPathComponent(name)
            guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8)
            else {
                problems.append(RuleProblem(file: path, ruleID: nil, message: "cannot read file as UTF-8"))
                continue
            }
            files.append((path, text))
        }
        return (files, problems)
    }

    /// SHA-256 over each file's name (without its directory) and contents, exactly as they were loaded; candidate
    /// (shadow directory) files follow, their names prefixed with `shadow/`.
    static func digest(_ files: [(name: String, contents: String)], shadowFiles: [(name: String, contents: String)] = []) -> String {
        var bytes: [UInt8] = []
        for (name, contents) in files {
            bytes += Array((name as NSString).lastPathComponent.utf8) + [0] + Array(contents.utf8) + [0]
        }
        for (name, contents) in shadowFiles {
            bytes += Array(("shadow/" + (name as NSString).lastPathComponent).utf8) + [0] + Array(contents.utf8) + [0]
        }
        return Crypto.hex(Crypto.sha256(bytes))
    }

    /// Loads rule files given as (name, YAML text) pairs; `shadowFiles` hold candidate rules, all run in shadow mode.
    public static func load(
        files: [(name: String, contents: String)], shadowFiles: [(name: String, contents: String)] = [],
        limits: MatchLimits = .default
    ) throws(RuleLoadError) -> RuleSet {
        var problems: [RuleProblem] = []
        var rules: [Rule] = []
        var shadowRules: [Rule] = []
        var seenIDs: [String: String] = [:]
        var seenCandidateIDs: [String: String] = [:]
        let candidates = Set(shadowFiles.map(\.name))
        for (name, contents) in files + shadowFiles {
            let isCandidateFile = candidates.contains(name)
            let document: RuleFileDocument
            do {
                document = try YAMLDecoder().decode(RuleFileDocument.self, from: contents)
            } catch {
                problems.append(RuleProblem(file: name, ruleID: nil, message: "YAML: \(describe(error))"))
                continue
            }
            for (position, definition) in (document.rules ?? []).enumerated() {
                let label = definition.id ?? "#\(position + 1)"
                if let id = definition.id {
                    if let other = isCandidateFile ? seenCandidateIDs[id] : seenIDs[id] {
                        problems.append(RuleProblem(file: name, ruleID: id, message: "duplicate rule id (also in \(other))"))
                    }
                    if isCandidateFile { seenCandidateIDs[id] = name } else { seenIDs[id] = name }
                }
                if definition.enabled == false { continue }
                let shadow: Bool
                switch definition.mode?.trimmingCharacters(in: .whitespaces).lowercased() {
                case _ where isCandidateFile: shadow = true
                case nil, "live": shadow = false
                case "shadow": shadow = true
                case let other?:
                    problems.append(RuleProblem(file: name, ruleID: definition.id, message: "mode must be live or shadow, not \(other)"))
                    continue
                }
                switch compile(definition, file: name, label: label) {
                case .success(let rule) where shadow: shadowRules.append(rule)
                case .success(let rule): rules.append(rule)
                case .failure(let failure): problems += failure.problems
                }
            }
        }
        let shadowSet = shadowRules.isEmpty ? nil : RuleSet(rules: shadowRules, limits: limits)
        let set = RuleSet(rules: rules, limits: limits, sourceDigest: Self.digest(files, shadowFiles: shadowFiles), shadow: shadowSet)
        problems += checkExamples(set)
        if let shadowSet { problems += checkExamples(shadowSet) }
        if !problems.isEmpty { throw RuleLoadError(problems: problems) }
        return set
    }

    /// Runs every example of every rule; a problem per failing example.
    public static func checkExamples(_ set: RuleSet) -> [RuleProblem] {
        var problems: [RuleProblem] = []
        set.withSession { session in
            let scanner = TextScanner(ruleSet: set, session: session, minimumConfidence: exampleConfidence, deadline: .none)
            for (index, rule) in set.rules.enumerated() {
                for example in rule.examples.match {
                    switch hitCount(scanner, rule: index, text: example) {
                    case .success(0):
                        problems.append(RuleProblem(file: rule.file, ruleID: rule.id, message: "example should match but does not: \(example.debugDescription)"))
                    case .success: break
                    case .failure(let error):
                        problems.append(RuleProblem(file: rule.file, ruleID: rule.id, message: "example \(example.debugDescription): \(error)"))
                    }
                }
                for example in rule.examples.noMatch {
                    switch hitCount(scanner, rule: index, text: example) {
                    case .success(0): break
                    case .success:
                        problems.append(RuleProblem(file: rule.file, ruleID: rule.id, message: "example should not match but does: \(example.debugDescription)"))
                    case .failure(let error):
                        problems.append(RuleProblem(file: rule.file, ruleID: rule.id, message: "example \(example.debugDescription): \(error)"))
                    }
                }
            }
        }
        return problems
    }

    private static func hitCount(_ scanner: TextScanner, rule: Int, text: String) -> Result<Int, InspectionError> {
        let normalized = TextNormalizer.normalize(text)
        return normalized.bytes.withUnsafeBufferPointer { buffer in
            do throws(InspectionError) { return .success(try scanner.scan(buffer, only: rule).count) } catch {
                return .failure(error)
            }
        }
    }

    private static func compile(_ definition: RuleDefinition, file: String, label: String) -> Result<Rule, RuleLoadError> {
        var problems: [RuleProblem] = []
        func problem(_ message: String, offset: Int? = nil) {
            problems.append(RuleProblem(file: file, ruleID: label, message: message, patternOffset: offset))
        }
        if definition.id == nil || definition.id!.isEmpty { problem("missing id") }
        let categoryName = definition.category?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
        if categoryName.isEmpty { problem("missing category (secret, pci, pii or a custom name)") }
        let type = definition.type?.trimmingCharacters(in: .whitespaces) ?? ""
        if type.isEmpty { problem("missing type (the data type found, e.g. email)") }
        var options: PatternOptions = []
        for flag in definition.flags ?? [] {
            if let option = PatternOptions.byName[flag] ?? PatternOptions.byName[flag.lowercased()] {
                options.insert(option)
            } else {
                problem("unknown flag \(flag.debugDescription)")
            }
        }
        var pattern: PCRE2Pattern?
        if let source = definition.pattern, !source.isEmpty {
            do { pattern = try PCRE2Pattern(source, options: options) } catch {
                if case .compile(_, let message, let offset) = error {
                    problem("pattern does not compile: \(message)", offset: offset)
                } else {
                    problem("pattern: \(error)")
                }
            }
        } else {
            problem("missing pattern")
        }
        if let group = definition.group, let pattern, group < 0 || group > pattern.captureCount {
            problem("group \(group) does not exist (pattern has \(pattern.captureCount) groups)")
        }
        var anchor = RuleAnchor.keywords
        if let spelling = definition.anchor {
            if spelling.hasPrefix("digits") {
                let minimum = spelling.split(separator: ":").dropFirst().first.flatMap { Int($0.trimmingCharacters(in: .whitespaces)) } ?? 7
                anchor = .digitRun(minimumDigits: minimum)
            } else if spelling.utf8.count == 1 {
                anchor = .byte(spelling.utf8.first!)
            } else {
                problem("anchor must be one character or digits[:N], not \(spelling.debugDescription)")
            }
        }
        let requiredBytes = Array(Set((definition.requires ?? "").utf8)).sorted()
        if requiredBytes.count > 4 { problem("requires: at most 4 bytes") }
        var digitShape: DigitShape?
        if let name = definition.digit_shape {
            digitShape = DigitShape(rawValue: name.trimmingCharacters(in: .whitespaces).lowercased())
            if digitShape == nil {
                problem("unknown digit_shape \(name.debugDescription) (\(DigitShape.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            if case .digitRun = anchor {} else { problem("digit_shape needs anchor: 'digits:N'") }
        }
        var startRun: ByteSet?
        var anchoredPattern: PCRE2Pattern?
        if let spelling = definition.start_run {
            if let set = ByteSet(classSpelling: spelling) {
                startRun = set
                if case .byte(let byte) = anchor, !set.contains(byte) {
                    if let source = definition.pattern {
                        anchoredPattern = try? PCRE2Pattern(source, options: options.union(.anchored))
                    }
                } else {
                    problem("start_run needs a one-character anchor that is not itself in the run")
                }
            } else {
                problem("start_run must be a character class body such as 'A-Za-z0-9._%+-', not \(spelling.debugDescription)")
            }
        }
        if let minimum = definition.min_start_run, minimum < 0 || startRun == nil {
            problem("min_start_run needs start_run and must not be negative")
        }
        var validator: RuleValidator?
        if let field = definition.validator {
            validator = RuleValidator(ruleFileName: field.spelling)
            if validator == nil { problem("unknown validator \(field.spelling.debugDescription)") }
        }
        let confidence = definition.confidence ?? 0.9
        if !(0...1).contains(confidence) { problem("confidence must be between 0 and 1") }
        var allowPatterns: [PCRE2Pattern] = []
        for source in definition.allow?.patterns ?? [] {
            do { allowPatterns.append(try PCRE2Pattern(source)) } catch {
                if case .compile(_, let message, let offset) = error {
                    problem("allow pattern \(source.debugDescription) does not compile: \(message)", offset: offset)
                }
            }
        }
        let category = Category(categoryName)
        var redaction: RedactionStyle = category == .pci ? .mask(keepLast: 4) : .placeholder
        if let name = definition.redaction {
            if let style = RedactionStyle(ruleFileName: name) { redaction = style } else { problem("unknown redaction \(name.debugDescription)") }
        }
        let matchExamples = definition.examples?.match ?? []
        if matchExamples.isEmpty { problem("needs at least one examples.match entry") }
        var context: RuleContext?
        if let definitionContext = definition.context {
            context = RuleContext(
                window: definitionContext.window ?? RuleSet.defaultContextWindow,
                raise: (definitionContext.raise ?? []).map { $0.lowercased() },
                lower: (definitionContext.lower ?? []).map { $0.lowercased() },
                step: definitionContext.step ?? 0.3,
                direction: RuleContext.Direction(rawValue: definitionContext.direction ?? "both") ?? .both)
            if RuleContext.Direction(rawValue: definitionContext.direction ?? "both") == nil {
                problem("context.direction must be before, after or both")
            }
        }
        guard problems.isEmpty, let pattern else { return .failure(RuleLoadError(problems: problems)) }
        return .success(Rule(
            id: definition.id!, description: definition.description ?? "", category: category, type: type,
            pattern: pattern, group: definition.group, keywords: (definition.keywords ?? []).map { $0.lowercased() },
            anchor: anchor, keywordWindow: max(64, definition.window ?? RuleSet.defaultKeywordWindow),
            keywordWindowBefore: max(definition.keywords?.map(\.utf8.count).max() ?? 0, definition.window_before ?? RuleSet.keywordWindowBefore),
            requiredBytes: requiredBytes, digitShape: digitShape, startRun: startRun, anchoredPattern: anchoredPattern,
            minimumStartRun: definition.min_start_run ?? 0,
            validator: validator, context: context, confidence: confidence,
            allowValues: Set(definition.allow?.values ?? []), allowPatterns: allowPatterns, redaction: redaction,
            examples: RuleExamples(match: matchExamples, noMatch: definition.examples?.no_match ?? []), file: file))
    }

    private static func describe(_ error: any Error) -> String {
        if let decoding = error as? DecodingError {
            switch decoding {
            case .typeMismatch(_, let context), .valueNotFound(_, let context), .keyNotFound(_, let context),
                .dataCorrupted(let context):
                let path = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
                return "\(path.isEmpty ? "" : path + ": ")\(context.debugDescription)"
            @unknown default: return "\(error)"
            }
        }
        return "\(error)"
    }
}
