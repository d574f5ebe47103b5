import Foundation

/// One labelled sensitive value that reached the vendor (or a block sample that was not blocked).
public struct CorpusLeak: Sendable, Hashable, CustomStringConvertible {
    public let sampleID: String
    public let type: String
    /// Masked: the first and last two characters only, so the report itself does not leak.
    public let maskedValue: String
    public let why: String
    public var description: String { "LEAK \(self.sampleID) \(self.type) \(self.maskedValue): \(self.why)" }
}

/// A sample judged wrong without a leak: a false positive (allow sample changed or blocked, redact sample blocked,
/// a `keep` value altered) or an inspection error.
public struct CorpusFailure: Sendable, Hashable, CustomStringConvertible {
    public let sampleID: String
    public let expected: String
    public let why: String
    public var description: String { "FAIL \(self.sampleID) (expect \(self.expected)): \(self.why)" }
}

/// Precision and recall for one data type.
public struct TypeStatistics: Sendable, Hashable {
    public let type: String
    /// Labelled values of this type.
    public var labelled = 0
    /// Labelled values not leaked.
    public var caught = 0
    /// Findings of this type.
    public var findings = 0
    /// Findings of this type whose fingerprint equals a labelled value of the same sample.
    public var correctFindings = 0

    public var recall: Double { self.labelled == 0 ? 1 : Double(self.caught) / Double(self.labelled) }
    public var precision: Double { self.findings == 0 ? 1 : Double(self.correctFindings) / Double(self.findings) }
}

/// Hits, precision and recall for one rule.
public struct RuleStatistics: Sendable, Hashable {
    public let rule: String
    public let type: String
    /// Findings of this rule, and those whose fingerprint equals a labelled value of the same type in the sample.
    public var findings = 0
    public var correctFindings = 0
    /// Labelled values this rule found (each sample's value counted once).
    public var found = 0
    /// Findings on samples labelled `allow` (benign text).
    public var onBenign = 0

    public var precision: Double { self.findings == 0 ? 1 : Double(self.correctFindings) / Double(self.findings) }
}

/// The result of `CorpusEvaluator.evaluate`.
public struct CorpusReport: Sendable {
    public var sampleCount = 0
    public var passed = 0
    public var leaks: [CorpusLeak] = []
    public var failures: [CorpusFailure] = []
    public var statistics: [String: TypeStatistics] = [:]
    public var ruleStatistics: [String: RuleStatistics] = [:]
    public var elapsedSeconds = 0.0

    /// A plain-text report: per-type table, then every leak and failure, then a summary line.
    public func render() -> String {
        var lines: [String] = []
        lines.append("type                      labelled caught  recall  findings correct precision")
        for stats in self.statistics.values.sorted(by: { $0.type < $1.type }) {
            lines.append(
                stats.type.padding(toLength: 25, withPad: " ", startingAt: 0)
                    + String(format: " %8d %6d %7.3f %9d %7d %9.3f", stats.labelled, stats.caught, stats.recall,
                             stats.findings, stats.correctFindings, stats.precision))
        }
        lines.append("")
        lines.append("rule                             type                   findings correct precision  found  recall  on-benign")
        for stats in self.ruleStatistics.values.sorted(by: { $0.rule < $1.rule }) {
            let labelled = self.statistics[stats.type]?.labelled ?? 0
            let recall = labelled == 0 ? "      -" : String(format: "%7.3f", Double(stats.found) / Double(labelled))
            lines.append(
                stats.rule.padding(toLength: 32, withPad: " ", startingAt: 0) + " "
                    + stats.type.padding(toLength: 22, withPad: " ", startingAt: 0)
                    + String(format: " %8d %7d %9.3f %6d ", stats.findings, stats.correctFindings, stats.precision, stats.found)
                    + recall + String(format: " %10d", stats.onBenign))
        }
        lines.append("")
        lines += self.leaks.map(\.description)
        lines += self.failures.map(\.description)
        lines.append(self.summary)
        return lines.joined(separator: "\n")
    }

    public var summary: String {
        "\(self.sampleCount) samples, \(self.passed) passed, \(self.leaks.count) leaks, \(self.failures.count) failures"
            + String(format: " (%.2f s)", self.elapsedSeconds)
    }
}

/// Runs a labelled corpus in the acceptance format (`../shared/acceptance/README.md`) through a `BodyInspector` and
/// judges each sample as the acceptance check does. Backs `gatewayctl rules eval` and the corpus test.
public enum CorpusEvaluator {
    public enum EvaluationError: Error, Sendable, CustomStringConvertible {
        case unreadable(String)
        case badLine(Int, String)
        public var description: String {
            switch self {
            case .unreadable(let path): return "cannot read corpus \(path)"
            case .badLine(let line, let why): return "corpus line \(line): \(why)"
            }
        }
    }

    /// Evaluates every line of the corpus. `progress(done, total)` is called after each sample.
    public static func evaluate(corpusPath: String, inspector: BodyInspector, policy: CategoryPolicy = .default,
                                progress: ((Int, Int) -> Void)? = nil) throws(EvaluationError) -> CorpusReport
    {
        guard let data = FileManager.default.contents(atPath: corpusPath),
            let text = String(data: data, encoding: .utf8)
        else { throw .unreadable(corpusPath) }
        let lines = text.split(separator: "\n").filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        var report = CorpusReport()
        let started = ContinuousClock.now
        for (number, line) in lines.enumerated() {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                let raw = object["raw"] as? String, let expect = object["expect"] as? String
            else { throw .badLine(number + 1, "not a corpus sample object") }
            let id = object["id"] as? String ?? "line \(number + 1)"
            let sensitive = (object["sensitive"] as? [[String: Any]] ?? []).compactMap { item -> (String, String)? in
                guard let type = item["type"] as? String, let value = item["value"] as? String else { return nil }
                return (type, value)
            }
            let keep = object["keep"] as? [String] ?? []
            let gzip = (object["encoding"] as? String) == "gzip"
            judge(id: id, raw: raw, gzip: gzip, expect: expect, sensitive: sensitive, keep: keep, inspector: inspector,
                  policy: policy, into: &report)
            progress?(number + 1, lines.count)
        }
        report.elapsedSeconds = Double((ContinuousClock.now - started).components.attoseconds) / 1e18
            + Double((ContinuousClock.now - started).components.seconds)
        return report
    }

    static func judge(id: String, raw: String, gzip: Bool, expect: String, sensitive: [(String, String)],
                      keep: [String], inspector: BodyInspector, policy: CategoryPolicy, into report: inout CorpusReport)
    {
        report.sampleCount += 1
        let original = Array(raw.utf8)
        let body = gzip ? Gzip.compress(original) : original
        var forwarded: [UInt8]?
        var findings: [Finding] = []
        var errorText: String?
        do {
            let decision = try inspector.inspect(body: body, contentType: "application/json",
                                                 contentEncoding: gzip ? "gzip" : nil, policy: policy)
            findings = decision.findings
            switch decision.verdict {
            case .allow: forwarded = original
            case .redact(let newBody, _): forwarded = newBody
            case .block: forwarded = nil
            }
        } catch {
            errorText = "\(error)"
        }
        let fingerprints = Dictionary(grouping: sensitive, by: { $0.0 }).mapValues { Set($0.map { inspector.fingerprint(of: $0.1) }) }
        var foundByRule: [String: Set<String>] = [:]
        for finding in findings {
            report.statistics[finding.type, default: TypeStatistics(type: finding.type)].findings += 1
            report.ruleStatistics[finding.ruleID, default: RuleStatistics(rule: finding.ruleID, type: finding.type)].findings += 1
            if expect == "allow" { report.ruleStatistics[finding.ruleID]!.onBenign += 1 }
            if fingerprints[finding.type]?.contains(finding.fingerprint) == true {
                report.statistics[finding.type]!.correctFindings += 1
                report.ruleStatistics[finding.ruleID]!.correctFindings += 1
                foundByRule[finding.ruleID, default: []].insert(finding.fingerprint)
            }
        }
        for (rule, found) in foundByRule { report.ruleStatistics[rule]!.found += found.count }
        let readable = forwarded.map(readableText) ?? ""
        var ok = true
        for (type, value) in sensitive {
            report.statistics[type, default: TypeStatistics(type: type)].labelled += 1
            let leaked: String?
            if expect == "block" {
                leaked = forwarded != nil ? "block sample was forwarded" : nil
            } else if forwarded != nil && isReadable(value, in: readable) {
                leaked = "value reached the vendor"
            } else {
                leaked = nil
            }
            if let leaked {
                ok = false
                report.leaks.append(CorpusLeak(sampleID: id, type: type, maskedValue: mask(value), why: leaked))
            } else {
                report.statistics[type]!.caught += 1
            }
        }
        if let errorText, expect != "block" {
            ok = false
            report.failures.append(CorpusFailure(sampleID: id, expected: expect, why: "inspection error: \(errorText)"))
        }
        switch expect {
        case "allow":
            if errorText == nil && forwarded != original {
                ok = false
                let what = forwarded == nil ? "blocked" : "changed"
                let types = findings.map { "\($0.type)@\($0.location) (rule \($0.ruleID))" }.joined(separator: ", ")
                report.failures.append(CorpusFailure(sampleID: id, expected: expect, why: "\(what) by \(types)"))
            }
        case "redact":
            if errorText == nil && forwarded == nil {
                ok = false
                let types = findings.filter { $0.action == .block }.map { "\($0.type)@\($0.location)" }.joined(separator: ", ")
                report.failures.append(CorpusFailure(sampleID: id, expected: expect, why: "blocked by \(types)"))
            }
        default: break
        }
        if forwarded != nil {
            for value in keep where !readable.contains(value) {
                ok = false
                report.failures.append(CorpusFailure(sampleID: id, expected: expect, why: "keep value altered: \(mask(value))"))
            }
        }
        if ok { report.passed += 1 }
    }

    /// All JSON strings of the forwarded body joined by newlines, plus a normalised copy (so a value hidden by
    /// zero-width or fullwidth characters still counts as readable).
    static func readableText(_ body: [UInt8]) -> String {
        var strings: [String] = []
        func collect(_ value: Any) {
            if let string = value as? String { strings.append(string) }
            if let array = value as? [Any] { array.forEach(collect) }
            if let object = value as? [String: Any] {
                for (key, member) in object {
                    strings.append(key)
                    collect(member)
                }
            }
        }
        if let object = try? JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed]) {
            collect(object)
        } else {
            strings.append(String(decoding: body, as: UTF8.self))
        }
        let joined = strings.joined(separator: "\n")
        let normalized = String(decoding: TextNormalizer.normalize(joined).bytes, as: UTF8.self)
        return joined + "\n" + normalized
    }

    static func isReadable(_ value: String, in text: String) -> Bool {
        if text.contains(value) { return true }
        // Separators removed on both sides: "4111 1111 1111 1111" forwarded as "4111111111111111" is still a leak.
        let squeeze = { (s: String) in String(s.unicodeScalars.filter { $0 != " " && $0 != "-" && $0 != "\u{200B}" }) }
        let squeezedValue = squeeze(value)
        return squeezedValue.count >= 6 && squeeze(text).contains(squeezedValue)
    }

    static func mask(_ value: String) -> String {
        let characters = Array(value)
        guard characters.count > 6 else { return String(repeating: "*", count: characters.count) }
        return String(characters.prefix(2)) + "…" + String(characters.suffix(2)) + " (\(characters.count) chars)"
    }
}
