import Foundation
import GatewayRules
import Testing

/// Runs the labelled acceptance corpora through the inspector with the default pack and policy, judging each sample
/// as the acceptance check does: block -> blocked; redact -> forwarded with no sensitive value readable and every
/// `keep` value intact; allow -> forwarded byte-identical.
@Suite struct CorpusTests {
    @Test(arguments: ["dev.jsonl", "dev-evasion.jsonl"])
    func corpusHasNoLeaksAndNoFalsePositives(file: String) throws {
        let path = TestSupport.corpusDirectory + "/" + file
        guard FileManager.default.fileExists(atPath: path) else { return }  // corpus not checked out: skip
        let report = try CorpusEvaluator.evaluate(corpusPath: path, inspector: TestSupport.inspector)
        let problems = report.failures.map(\.description)
        #expect(report.leaks.isEmpty, "leaks:\n\(report.leaks.map(\.description).joined(separator: "\n"))")
        #expect(problems.isEmpty, "failures:\n\(problems.joined(separator: "\n"))")
        #expect(report.sampleCount > 0)
    }
}
