// Rule-engine benchmark: throughput of the full default pack through BodyInspector (prefilter + anchored windows +
// PCRE2-JIT) beside the same rules run one by one over the whole text with PCRE2-JIT and no prefilter, plus p50/p99
// inspection latency for 2 KB and 100 KB bodies. Run in release mode on an idle core (see bench/rules-bench).
import Foundation
import GatewayRules

struct Arguments {
    var rules = "rules"
    var corpus = "../shared/acceptance/corpus"
    var seconds = 1.0

    init() {
        var iterator = CommandLine.arguments.dropFirst().makeIterator()
        while let argument = iterator.next() {
            switch argument {
            case "--rules": self.rules = iterator.next() ?? self.rules
            case "--corpus": self.corpus = iterator.next() ?? self.corpus
            case "--seconds": self.seconds = Double(iterator.next() ?? "") ?? self.seconds
            default:
                FileHandle.standardError.write(Data("usage: gateway-bench-rules [--rules DIR] [--corpus DIR] [--seconds S]\n".utf8))
                exit(2)
            }
        }
    }
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

/// Repeats `body` for at least `minimum` seconds; returns bytes per second.
func throughput(bytes: Int, minimum: Double, _ body: () throws -> Void) rethrows -> Double {
    var rounds = 0
    let clock = ContinuousClock()
    let start = clock.now
    repeat {
        try body()
        rounds += 1
    } while seconds(clock.now - start) < minimum
    return Double(bytes * rounds) / seconds(clock.now - start)
}

/// Prompt-like prose: words, sentences, code lines, numbers, dates, versions, hashes and a little PII.
func promptLikeText(bytes: Int) -> [UInt8] {
    var generator = SystemRandomNumberGenerator()
    let words = ("the of and to in is that for it as was with be by on not he this are or his from at which but have an "
        + "they you were her all she there would their we him been has when who will more no if out so said what up its "
        + "about into than them can only other new some could time these two may then do first any my now such like our "
        + "over man me even most made after also did many before must through back years where much your way well down "
        + "should because each just those people how too little state good very make world still own see men work long "
        + "function return value request response model token context summary customer invoice meeting").split(separator: " ")
    var text = ""
    text.reserveCapacity(bytes + 200)
    var sentence = 0
    while text.utf8.count < bytes {
        let count = Int.random(in: 6...18, using: &generator)
        text += (0..<count).map { _ in String(words.randomElement(using: &generator)!) }.joined(separator: " ")
        sentence += 1
        switch sentence % 23 {
        case 3: text += " on 2025-0\(sentence % 9 + 1)-1\(sentence % 9)"
        case 7: text += " version \(sentence % 13).\(sentence % 7).\(sentence % 100)"
        case 11: text += " commit 9250aee91fbb51674c3aefc7d19c6d36a65f55f3"
        case 13: text += " order \(100_000 + sentence * 7919)"
        case 17 where sentence % 4 == 1: text += ". Contact jo.smith\(sentence)@example-corp.com"
        case 19: text += "\n    let total = items.reduce(0) { $0 + $1.price * 2 }"
        case 21: text += ":\n    if response.status == 200 { return try decoder.decode(Summary.self, from: data) }"
        default: break
        }
        // Rarer sensitive values and look-alikes, about one per 10-20 KB.
        switch sentence % 211 {
        case 37: text += ". Call me at (415) 555-0132 tomorrow"
        case 83: text += ". The staging config has AWS_ACCESS_KEY_ID=AKIAQ3EGKZ7L5WRXH2PD in it"
        case 131: text += ". Here is the URL: https://docs.example.com/guide/setup?ref=tok_x1 for the team"
        case 173: text += "\n    db.password = \"Tr0ub4dor&3xK9\""
        case 199: text += ". Paid with card 4111 1111 1111 1111 last week"
        default: break
        }
        text += ". "
        if sentence % 5 == 0 { text += "\n" }
    }
    return Array(text.utf8.prefix(bytes))
}

func chatBody(text: [UInt8]) -> [UInt8] {
    let content = String(decoding: text, as: UTF8.self)
    let object: [String: Any] = ["model": "gpt-4o", "messages": [["role": "system", "content": "You are helpful."],
                                                                 ["role": "user", "content": content]]]
    return [UInt8](try! JSONSerialization.data(withJSONObject: object))
}

func percentile(_ sorted: [Double], _ p: Double) -> Double { sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] }

let arguments = Arguments()
let rules: RuleSet
do { rules = try RuleLoader.load(directory: arguments.rules) } catch {
    print(error)
    exit(1)
}
let inspector = BodyInspector(rules: rules, fingerprintKey: Array("benchmark-key".utf8))
print("rules: \(rules.rules.count) (all JIT: \(rules.rules.allSatisfy { $0.pattern.isJITCompiled }))")

// Corpus bodies.
var corpusBodies: [[UInt8]] = []
for file in ["dev.jsonl", "dev-evasion.jsonl"] {
    guard let data = FileManager.default.contents(atPath: arguments.corpus + "/" + file) else { continue }
    for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
        if let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], let raw = object["raw"] as? String {
            corpusBodies.append(Array(raw.utf8))
        }
    }
}
let corpusBytes = corpusBodies.reduce(0) { $0 + $1.count }
let prompt = promptLikeText(bytes: 4 << 20)

func inspectorScan(_ body: [UInt8], type: String) {
    _ = try? inspector.inspect(body: body, contentType: type, contentEncoding: nil)
}

/// Every rule over the whole text, one after another, PCRE2-JIT, no prefilter, no windows, no validators.
func naiveScan(_ text: [UInt8], session: MatchSession) {
    text.withUnsafeBufferPointer { buffer in
        for rule in rules.rules {
            var start = 0
            while start < buffer.count, let groups = try? rule.pattern.firstMatch(in: buffer, from: start, session: session),
                let whole = groups[0]
            {
                start = whole.isEmpty ? whole.upperBound + 1 : whole.upperBound
            }
        }
    }
}

let session = MatchSession(limits: rules.limits)
if let profile = ProcessInfo.processInfo.environment["PROFILE_ONLY"] {
    // perf helper: loop one workload only.
    let clock = ContinuousClock()
    let start = clock.now
    var rounds = 0
    while seconds(clock.now - start) < arguments.seconds {
        if profile == "corpus" { for body in corpusBodies { inspectorScan(body, type: "application/json") } }
        else { inspectorScan(prompt, type: "text/plain") }
        rounds += 1
    }
    print("rounds: \(rounds)")
    if let decision = try? inspector.inspect(body: prompt, contentType: "text/plain", contentEncoding: nil) {
        print(Dictionary(grouping: decision.findings, by: \.ruleID).mapValues(\.count))
    }
    exit(0)
}
if !corpusBodies.isEmpty {
    let pack = throughput(bytes: corpusBytes, minimum: arguments.seconds) {
        for body in corpusBodies { inspectorScan(body, type: "application/json") }
    }
    let naive = throughput(bytes: corpusBytes, minimum: arguments.seconds) {
        for body in corpusBodies { naiveScan(body, session: session) }
    }
    print(String(format: "corpus bodies (%d, %.1f KB): full pack %.0f MB/s | rules one by one, no prefilter %.0f MB/s | %.2fx of 1 GB/s goal",
                 corpusBodies.count, Double(corpusBytes) / 1024, pack / 1e6, naive / 1e6, pack / 1e9))
}
let promptPack = throughput(bytes: prompt.count, minimum: arguments.seconds) { inspectorScan(prompt, type: "text/plain") }
let promptNaive = throughput(bytes: prompt.count, minimum: arguments.seconds) { naiveScan(prompt, session: session) }
let promptDecision = try? inspector.inspect(body: prompt, contentType: "text/plain", contentEncoding: nil)
print(String(format: "prompt-like text (4 MiB, %d findings): full pack %.0f MB/s | rules one by one, no prefilter %.0f MB/s | %.2fx of 1 GB/s goal",
             promptDecision?.findings.count ?? -1, promptPack / 1e6, promptNaive / 1e6, promptPack / 1e9))

for (label, size, rounds) in [("2 KB", 2 * 1024, 5000), ("100 KB", 100 * 1024, 500)] {
    let body = chatBody(text: Array(prompt.prefix(size - 100)))
    var samples: [Double] = []
    samples.reserveCapacity(rounds)
    let clock = ContinuousClock()
    for _ in 0..<rounds {
        let start = clock.now
        inspectorScan(body, type: "application/json")
        samples.append(seconds(clock.now - start) * 1e6)
    }
    samples.sort()
    print(String(format: "%@ chat body (%d bytes): p50 %.1f µs, p99 %.1f µs", label, body.count, percentile(samples, 0.5),
                 percentile(samples, 0.99)))
}

if ProcessInfo.processInfo.environment["PER_RULE"] != nil {
    prompt.withUnsafeBufferPointer { buffer in
        for rule in rules.rules {
            let clock = ContinuousClock()
            let start = clock.now
            var position = 0
            while position < buffer.count, let groups = try? rule.pattern.firstMatch(in: buffer, from: position, session: session),
                let whole = groups[0]
            {
                position = whole.isEmpty ? whole.upperBound + 1 : whole.upperBound
            }
            print(String(format: "  %-28@ %8.0f MB/s", rule.id, Double(buffer.count) / seconds(clock.now - start) / 1e6))
        }
    }
}
