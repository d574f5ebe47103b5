import ArgumentParser
import GatewayAudit
import Foundation
import GatewayCrypto
import GatewayRules

/// `gatewayctl rules check|test|eval`: thin wrappers over `RulesTool` and `CorpusEvaluator`.
struct RulesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules",
        abstract: "Check, try and evaluate the classification rules.",
        subcommands: [Check.self, Test.self, Eval.self, Shadow.self]
    )

    struct Options: ParsableArguments {
        @Option(name: .long, help: "Directory of rule files (*.yaml).")
        var rules: String = "rules"
        @Option(name: .long, help: "Candidate rule directory (rules.shadow_directory): its rules are loaded in shadow mode beside the live ones and their examples checked.")
        var shadow: String?
    }

    static var isTerminal: Bool { isatty(STDOUT_FILENO) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil }

    static func loadInspector(_ directory: String) throws -> BodyInspector {
        do {
            let set = try RuleLoader.load(directory: directory)
            // Tools use a throw-away key: fingerprints are only compared within one run.
            return BodyInspector(rules: set, fingerprintKey: Crypto.randomBytes(count: 32))
        } catch {
            FileHandle.standardError.write(Data((error.description + "\n").utf8))
            throw ExitCode(2)
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Compile every rule and run every example.")
        @OptionGroup var options: Options

        func run() throws {
            let report = RulesTool.check(directory: self.options.rules, shadowDirectory: self.options.shadow)
            print(report.render())
            if !report.succeeded { throw ExitCode(1) }
        }
    }

    struct Test: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Scan a text or JSON body; show findings and the redacted body.")
        @OptionGroup var options: Options
        @Argument(help: "File to scan, or - for standard input.")
        var file: String
        @Flag(name: .long, help: "Explain every candidate: its span, the validator's verdict, the context words that raised or lowered its confidence, and any allow-list entry that suppressed it.")
        var explain = false

        func run() throws {
            let inspector = try RulesCommand.loadInspector(self.options.rules)
            let data: Data
            if self.file == "-" {
                data = FileHandle.standardInput.readDataToEndOfFile()
            } else {
                guard let contents = FileManager.default.contents(atPath: self.file) else {
                    throw ValidationError("cannot read \(self.file)")
                }
                data = contents
            }
            if self.explain {
                print(RulesTool.explain(input: [UInt8](data), inspector: inspector).render(), terminator: "")
            }
            do {
                let report = try RulesTool.test(input: [UInt8](data), inspector: inspector)
                print(report.render(colour: RulesCommand.isTerminal))
                if report.decision.isBlocked { throw ExitCode(1) }
            } catch let error as InspectionError {
                print("error: \(error)")
                throw ExitCode(1)
            }
        }
    }

    struct Eval: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Per-type precision/recall, leaks and false positives on a labelled corpus.")
        @OptionGroup var options: Options
        @Argument(help: "Corpus in the acceptance format (JSON lines).")
        var corpus: String

        func run() throws {
            let inspector = try RulesCommand.loadInspector(self.options.rules)
            let terminal = RulesCommand.isTerminal
            let report: CorpusReport
            do {
                report = try CorpusEvaluator.evaluate(corpusPath: self.corpus, inspector: inspector) { done, total in
                    guard terminal, done == total || done % 10 == 0 else { return }
                    let width = 40
                    let filled = total == 0 ? width : done * width / total
                    let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
                    FileHandle.standardError.write(Data("\r\(bar) \(done)/\(total)".utf8))
                    if done == total { FileHandle.standardError.write(Data("\n".utf8)) }
                }
            } catch {
                throw ValidationError(error.description)
            }
            var text = report.render()
            if terminal {
                text = text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
                    if line.hasPrefix("LEAK") { return "\u{1B}[1;31m\(line)\u{1B}[0m" }
                    if line.hasPrefix("FAIL") { return "\u{1B}[33m\(line)\u{1B}[0m" }
                    return String(line)
                }.joined(separator: "\n")
            }
            print(text)
            if !report.leaks.isEmpty || !report.failures.isEmpty { throw ExitCode(1) }
        }
    }

    /// `gatewayctl rules shadow [--since 7d]`: what the shadow rules would have changed, from the decision records.
    struct Shadow: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Per shadow rule (mode: shadow): requests it fired on and would have changed, with record ids.",
            discussion: """
                Reads the decision records' `shadow` field: the decision each request would have had with the \
                shadow rules in force. A change (allow→redact, redact→block, ...) is counted for every shadow rule \
                that fired on the request. Inspect an example with `gatewayctl log show ID`.
                """)
        @OptionGroup var location: LogCommand.Location
        @Option(name: .long, help: "Records newer than this: 24h, 30m, 7d, or a UTC time (default: all).")
        var since: String?
        @Option(name: .long, help: "Example record ids per rule.") var examples: Int = 5

        func run() throws {
            let views = AuditReader.views(location: self.location.resolved)
            let report = ShadowReport(
                views: views, since: try self.since.map(LogTable.parseTime), examples: self.examples)
            print(report.render(), terminator: "")
        }
    }
}
