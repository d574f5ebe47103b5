import Foundation

/// Library side of `gatewayctl rules`: each command returns a report value so the CLI only prints and picks the exit
/// code.
public enum RulesTool {
    /// Result of `rules check`.
    public struct CheckReport: Sendable {
        public let ruleCount: Int
        /// Rules in shadow mode (`mode: shadow`, or from the candidate directory), not counted in `ruleCount`.
        public let shadowRuleCount: Int
        public let exampleCount: Int
        public let problems: [RuleProblem]
        public var succeeded: Bool { self.problems.isEmpty }

        public func render() -> String {
            if self.succeeded {
                let shadow = self.shadowRuleCount > 0 ? " and \(self.shadowRuleCount) shadow rules" : ""
                return "\(self.ruleCount) rules\(shadow) compiled (PCRE2 JIT), \(self.exampleCount) examples hold"
            }
            return self.problems.map(\.description).joined(separator: "\n") + "\n\(self.problems.count) problem(s)"
        }
    }

    /// Compiles every rule file in `directory` (and the candidate rules in `shadowDirectory`) and runs every example.
    public static func check(directory: String, shadowDirectory: String? = nil) -> CheckReport {
        do {
            let set = try RuleLoader.load(directory: directory, shadowDirectory: shadowDirectory)
            let all = set.rules + (set.shadow?.rules ?? [])
            let examples = all.reduce(0) { $0 + $1.examples.match.count + $1.examples.noMatch.count }
            return CheckReport(
                ruleCount: set.rules.count, shadowRuleCount: set.shadow?.rules.count ?? 0, exampleCount: examples, problems: [])
        } catch {
            return CheckReport(ruleCount: 0, shadowRuleCount: 0, exampleCount: 0, problems: error.problems)
        }
    }

    /// Result of `rules test`.
    public struct TestReport: Sendable {
        public let decision: Decision
        /// The body that would be forwarded (nil when blocked).
        public let forwarded: [UInt8]?

        /// Findings table and the redacted body; `colour` adds ANSI colours (for terminals).
        public func render(colour: Bool) -> String {
            func paint(_ text: String, _ code: String) -> String { colour ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text }
            var lines: [String] = []
            for finding in self.decision.findings {
                let action: String
                switch finding.action {
                case .block: action = paint("BLOCK ", "1;31")
                case .redact: action = paint("REDACT", "1;33")
                case .allow: action = paint("ALLOW ", "32")
                }
                lines.append("\(action) \(finding.category)/\(finding.type) rule=\(finding.ruleID) at \(finding.location) "
                    + String(format: "confidence=%.2f", finding.confidence)
                    + " fingerprint=\(finding.fingerprint) preview=\(finding.preview)"
                    + (finding.replacement.map { " -> \($0)" } ?? ""))
            }
            switch self.decision.verdict {
            case .allow: lines.append(paint("verdict: allow (forwarded unchanged)", "1;32"))
            case .redact(_, let dropped):
                lines.append(paint("verdict: redact" + (dropped ? " (Content-Encoding dropped)" : ""), "1;33"))
            case .block(let reason): lines.append(paint("verdict: block — \(reason)", "1;31"))
            }
            if let forwarded, case .redact = self.decision.verdict {
                var body = String(decoding: forwarded, as: UTF8.self)
                if colour {
                    for replacement in Set(self.decision.findings.compactMap(\.replacement)) {
                        body = body.replacingOccurrences(of: replacement, with: paint(replacement, "7"))
                    }
                }
                lines.append(body)
            }
            return lines.joined(separator: "\n")
        }
    }

    /// Inspects `input` as JSON when it parses as JSON, as plain text otherwise.
    /// - Parameter trace: when given, collects what became of every candidate (`explain`).
    public static func test(
        input: [UInt8], inspector: BodyInspector, policy: CategoryPolicy = .default, trace: ScanTrace? = nil
    ) throws(InspectionError) -> TestReport {
        let first = input.first { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }
        let looksJSON = first == UInt8(ascii: "{") || first == UInt8(ascii: "[")
        let decision: Decision
        if looksJSON, let json = try? inspector.inspect(body: input, contentType: "application/json",
                                                         contentEncoding: nil, policy: policy, trace: trace)
        {
            decision = json
        } else {
            trace?.reset()  // a body that was not JSON after all: only the text reading counts
            decision = try inspector.inspect(
                body: input, contentType: "text/plain", contentEncoding: nil, policy: policy, trace: trace)
        }
        return TestReport(decision: decision, forwarded: decision.forwardedBody(original: input))
    }
}
