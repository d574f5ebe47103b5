// Rule-engine benchmark (issue 4): throughput of the full default pack through BodyInspector (prefilter + anchored
// windows + PCRE2-JIT) beside the same rules run one by one over the whole text with PCRE2-JIT and no prefilter, plus
// p50/p99 inspection latency for 2 KB and 100 KB bodies. Run in release mode on an idle core (see bench/rules-bench).
//
// Workloads (all generated from a fixed seed, so every run scans the same bytes):
//   (a) clean   4 MiB prompt-like text: prose, code, dates, times, versions, prices, ids, hashes, UUIDs; no sensitive value
//   (b) sparse  the same kind of text with one sensitive value about every 20 KB
//   (c) dense   the same kind of text with one sensitive value about every 2 KB (the earlier benchmark's density)
//   (d) corpus  the acceptance corpus bodies (JSON, about 2 labelled values per 0.5 KB body)
import Foundation
import GatewayRules

struct Arguments {
    var rules = "rules"
    var corpus = "../shared/acceptance/corpus"
    var seconds = 1.0
    var naive = true
    /// `--only a|b|c`: scan just that text for `seconds` and print its row (for profilers).
    var only: String?
    /// `--hostile [MiB]`: only the worst-case texts (`HostileTexts.swift`), each of this size.
    var hostileMiB: Int?

    init() {
        var iterator = CommandLine.arguments.dropFirst().makeIterator()
        while let argument = iterator.next() {
            switch argument {
            case "--rules": self.rules = iterator.next() ?? self.rules
            case "--corpus": self.corpus = iterator.next() ?? self.corpus
            case "--seconds": self.seconds = Double(iterator.next() ?? "") ?? self.seconds
            case "--no-naive": self.naive = false
            case "--only": self.only = iterator.next()
            case "--hostile": self.hostileMiB = Int(iterator.next() ?? "") ?? 1
            default:
                FileHandle.standardError.write(Data(
                    "usage: gateway-bench-rules [--rules DIR] [--corpus DIR] [--seconds S] [--no-naive] [--only a|b|c] [--hostile MiB]\n".utf8))
                exit(2)
            }
        }
    }
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

/// CPU time of the calling thread in seconds: a shared machine preempts the benchmark, and wall-clock rounds would
/// count other processes' time as scan time. (Cache pollution by neighbours is still included.)
func threadCPUSeconds() -> Double {
    var spec = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
    return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
}

/// Runs `body` repeatedly for at least `minimum` seconds (and at least 3 times); returns bytes per CPU-second of
/// the median round, which is steadier than the mean on a shared machine.
func throughput(bytes: Int, minimum: Double, _ body: () -> Void) -> Double {
    var rounds: [Double] = []
    let clock = ContinuousClock()
    let start = clock.now
    body()  // warm-up
    repeat {
        let roundStart = threadCPUSeconds()
        body()
        rounds.append(threadCPUSeconds() - roundStart)
    } while seconds(clock.now - start) < minimum || rounds.count < 3
    rounds.sort()
    return Double(bytes) / rounds[rounds.count / 2]
}

/// SplitMix64: a tiny deterministic generator, so every run benchmarks the same text.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

let proseWords = ("the of and to in is that for it as was with be by on not he this are or his from at which but have an "
    + "they you were her all she there would their we him been has when who will more no if out so said what up its "
    + "about into than them can only other new some could time these two may then do first any my now such like our "
    + "over man me even most made after also did many before must through back years where much your way well down "
    + "should because each just those people how too little state good very make world still own see men work long "
    + "function return value request response model token context summary customer invoice meeting deploy release "
    + "server client cache queue latency budget quarter revenue schedule review update config build test error "
    + "please thanks could you explain why does this fail rewrite the following paragraph translate into French").split(separator: " ")

/// Realistic non-sensitive fragments: numbers and identifiers that look a bit like sensitive values but are not.
func cleanFragment(_ generator: inout SeededGenerator) -> String {
    func digits(_ count: Int) -> String { String((0..<count).map { _ in Character(String(Int.random(in: 0...9, using: &generator))) }) }
    func hex(_ count: Int) -> String { String((0..<count).map { _ in "0123456789abcdef".randomElement(using: &generator)! }) }
    switch Int.random(in: 0..<22, using: &generator) {
    case 0: return " on 2025-0\(Int.random(in: 1...9, using: &generator))-\(Int.random(in: 10...28, using: &generator))"
    case 1: return " at 2025-11-0\(Int.random(in: 1...9, using: &generator)) \(Int.random(in: 10...23, using: &generator)):\(Int.random(in: 10...59, using: &generator)):0\(Int.random(in: 0...9, using: &generator))"
    case 2: return " version \(Int.random(in: 0...20, using: &generator)).\(Int.random(in: 0...40, using: &generator)).\(Int.random(in: 0...300, using: &generator))"
    case 3: return " commit \(hex(40))"
    case 4: return " order #\(digits(6))"
    case 5: return " costs $\(Int.random(in: 1...9, using: &generator)),\(digits(3)).\(digits(2))"
    case 6: return " request id \(hex(8))-\(hex(4))-\(hex(4))-\(hex(4))-\(hex(12))"
    case 7: return " (ticket \(digits(5)))"
    case 8: return ", revenue grew \(Int.random(in: 1...40, using: &generator)).\(Int.random(in: 0...9, using: &generator))% to $\(digits(1)).\(digits(1))M"
    case 9: return "\n    let total = items.reduce(0) { $0 + $1.price * \(Int.random(in: 2...9, using: &generator)) }"
    case 10: return ":\n    if response.status == 200 { return try decoder.decode(Summary.self, from: data) }"
    case 11: return "\n    for i in range(\(Int.random(in: 10...1000, using: &generator))):\n        x[i] = y[i] * 0.\(digits(3))"
    case 12: return " see https://docs.example.com/guide/setup#step-\(Int.random(in: 1...9, using: &generator))"
    case 13: return " timeout=\(Int.random(in: 1...120, using: &generator))s retries=\(Int.random(in: 1...5, using: &generator))"
    case 14: return " population \(Int.random(in: 1...99, using: &generator)),\(digits(3)),\(digits(3))"
    case 15: return "\n    @MainActor func refresh() async throws { try await store.load(limit: \(Int.random(in: 10...500, using: &generator))) }"
    case 16: return " build \(digits(8)) passed in \(Int.random(in: 1...59, using: &generator))m\(Int.random(in: 10...59, using: &generator))s"
    case 17: return " sha256 \(hex(64))"
    case 18: return " ISBN 978-\(digits(1))-\(digits(3))-\(digits(5))-\(digits(1))"
    case 19: return " port \(Int.random(in: 1024...65535, using: &generator)) on 10.\(Int.random(in: 0...255, using: &generator)).\(Int.random(in: 0...255, using: &generator)).\(Int.random(in: 1...254, using: &generator))"
    case 20: return " {\"id\": \(digits(7)), \"status\": \"ok\", \"elapsed_ms\": \(Int.random(in: 1...999, using: &generator))}"
    default: return " tracking \(digits(12))"
    }
}

/// Sensitive values every rule family should report (taken from the rules' own examples).
let sensitiveFragments = [
    ". Contact jo.smith@example-corp.com about it", ". Call me at (415) 555-0132 tomorrow",
    ". The staging config has AWS_ACCESS_KEY_ID=AKIAQ3EGKZ7L5WRXH2PD in it", "\n    db.password = \"Tr0ub4dor&3xK9\"",
    ". Paid with card 4620 9665 4287 0724 last week", ". SSN 536-22-1234 on file", ". IBAN DE89 3704 0044 0532 0130 00 please",
    ". token ghp_8fJ2kLmN0pQrStUvWxYz1234567890AbCdEf in the CI", ". Reach +44 20 7946 0958 in London",
]

/// Prompt-like text of `bytes` bytes: sentences of common words, each followed now and then by a clean fragment;
/// with `findingEvery` set, a sensitive value is inserted each time that many bytes have passed since the last one.
func promptLikeText(bytes: Int, findingEvery: Int?, seed: UInt64) -> [UInt8] {
    var generator = SeededGenerator(state: seed)
    var text = ""
    text.reserveCapacity(bytes + 400)
    var sentence = 0
    var lastFinding = 0
    var nextSensitive = 0
    while text.utf8.count < bytes {
        let count = Int.random(in: 6...18, using: &generator)
        var words = (0..<count).map { _ in String(proseWords.randomElement(using: &generator)!) }
        words[0] = words[0].prefix(1).uppercased() + words[0].dropFirst()
        text += words.joined(separator: " ")
        sentence += 1
        if Int.random(in: 0..<3, using: &generator) == 0 { text += cleanFragment(&generator) }
        if let findingEvery, text.utf8.count - lastFinding >= findingEvery {
            text += sensitiveFragments[nextSensitive % sensitiveFragments.count]
            nextSensitive += 1
            lastFinding = text.utf8.count
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
    return [UInt8](try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
}

func percentile(_ sorted: [Double], _ p: Double) -> Double { sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] }

let arguments = Arguments()
let rules: RuleSet
do { rules = try RuleLoader.load(directory: arguments.rules) } catch {
    print(error)
    exit(1)
}
let inspector = BodyInspector(rules: rules, fingerprintKey: Array("benchmark-key".utf8))
print("rules: \(rules.rules.count) (all JIT: \(rules.rules.allSatisfy { $0.pattern.isJITCompiled })); MB/s per CPU-second of one thread, median round")

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
let size = 4 << 20
let texts: [(label: String, bytes: [UInt8])] = [
    ("(a) clean prompt-like text", promptLikeText(bytes: size, findingEvery: nil, seed: 1)),
    ("(b) sparse: 1 value / 20 KB", promptLikeText(bytes: size, findingEvery: 20_000, seed: 2)),
    ("(c) dense: 1 value / 2 KB", promptLikeText(bytes: size, findingEvery: 2_000, seed: 3)),
]

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
    // perf helper: loop one workload only (corpus, a, b or c).
    let clock = ContinuousClock()
    let start = clock.now
    var rounds = 0
    let hostile = hostileTexts.first { $0.label == profile }?.bytes(1 << 20)
    let text = hostile ?? ["a": texts[0].bytes, "b": texts[1].bytes, "c": texts[2].bytes][profile] ?? texts[2].bytes
    while seconds(clock.now - start) < arguments.seconds {
        if profile == "corpus" { for body in corpusBodies { inspectorScan(body, type: "application/json") } }
        else { inspectorScan(text, type: "text/plain") }
        rounds += 1
    }
    print("rounds: \(rounds)")
    if let decision = try? inspector.inspect(body: text, contentType: "text/plain", contentEncoding: nil) {
        print(Dictionary(grouping: decision.findings, by: \.ruleID).mapValues(\.count))
    }
    exit(0)
}

func row(_ label: String, _ bytes: Int, findings: Int, pack: Double, naive: Double?, goal: Bool) {
    var line = String(format: "%-30@ %7.1f KB %6d findings | full pack %7.0f MB/s", label, Double(bytes) / 1024, findings, pack / 1e6)
    if let naive { line += String(format: " | one by one, no prefilter %4.0f MB/s (%.0fx)", naive / 1e6, pack / naive) }
    if goal { line += String(format: " | %.2fx of 1 GB/s goal", pack / 1e9) }
    print(line)
}

if let mebibytes = arguments.hostileMiB {
    // Worst cases: each text as a text body and inside a JSON string, MB/s per CPU-second of one thread.
    print("hostile texts, \(mebibytes) MiB each; floor 50 MB/s per core")
    var slowest = Double.infinity
    for hostile in hostileTexts {
        let text = hostile.bytes(mebibytes << 20)
        var outcome = "allowed"
        do {
            let decision = try inspector.inspect(body: text, contentType: "text/plain", contentEncoding: nil)
            outcome = decision.isBlocked ? "blocked" : decision.findings.isEmpty ? "allowed" : "redacted"
        } catch {
            outcome = "refused (\(error))".prefix(60).description
        }
        let rate = throughput(bytes: text.count, minimum: arguments.seconds) { inspectorScan(text, type: "text/plain") }
        slowest = min(slowest, rate)
        print(String(format: "  %-28@ %8.0f MB/s  %@%@", hostile.label, rate / 1e6, outcome, rate < 50e6 ? "  BELOW FLOOR" : ""))
    }
    print(String(format: "slowest: %.0f MB/s (floor 50 MB/s: %@)", slowest / 1e6, slowest >= 50e6 ? "met" : "NOT met"))
    exit(slowest >= 50e6 ? 0 : 1)
}

if let only = arguments.only {
    guard let index = ["a", "b", "c"].firstIndex(of: only) else { print("--only takes a, b or c"); exit(2) }
    let text = texts[index]
    let pack = throughput(bytes: text.bytes.count, minimum: arguments.seconds) { inspectorScan(text.bytes, type: "text/plain") }
    row(text.label, text.bytes.count, findings: -1, pack: pack, naive: nil, goal: index < 2)
    exit(0)
}

for (index, text) in texts.enumerated() {
    let pack = throughput(bytes: text.bytes.count, minimum: arguments.seconds) { inspectorScan(text.bytes, type: "text/plain") }
    let naive = arguments.naive
        ? throughput(bytes: text.bytes.count, minimum: arguments.seconds) { naiveScan(text.bytes, session: session) } : nil
    let findings = (try? inspector.inspect(body: text.bytes, contentType: "text/plain", contentEncoding: nil))?.findings.count ?? -1
    row(text.label, text.bytes.count, findings: findings, pack: pack, naive: naive, goal: index < 2)
}
if !corpusBodies.isEmpty {
    let pack = throughput(bytes: corpusBytes, minimum: arguments.seconds) {
        for body in corpusBodies { inspectorScan(body, type: "application/json") }
    }
    let naive = arguments.naive ? throughput(bytes: corpusBytes, minimum: arguments.seconds) {
        for body in corpusBodies { naiveScan(body, session: session) }
    } : nil
    let findings = corpusBodies.reduce(0) {
        $0 + ((try? inspector.inspect(body: $1, contentType: "application/json", contentEncoding: nil))?.findings.count ?? 0)
    }
    row("(d) corpus bodies (\(corpusBodies.count))", corpusBytes, findings: findings, pack: pack, naive: naive, goal: false)
}

for (textLabel, text) in [("clean", texts[0].bytes), ("dense", texts[2].bytes)] {
    for (label, size, rounds) in [("2 KB", 2 * 1024, 5000), ("100 KB", 100 * 1024, 500)] {
        let body = chatBody(text: Array(text.prefix(size - 100)))
        var samples: [Double] = []
        samples.reserveCapacity(rounds)
        let clock = ContinuousClock()
        for _ in 0..<rounds {
            let start = clock.now
            inspectorScan(body, type: "application/json")
            samples.append(seconds(clock.now - start) * 1e6)
        }
        samples.sort()
        print(String(format: "%@ chat body, %@ text (%d bytes): p50 %.1f µs, p99 %.1f µs", label, textLabel, body.count,
                     percentile(samples, 0.5), percentile(samples, 0.99)))
    }
}

if ProcessInfo.processInfo.environment["PER_RULE"] != nil {
    texts[0].bytes.withUnsafeBufferPointer { buffer in
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

// The shortcuts (digit-shape gating, anchored starts) must give exactly the reference path's hits.
var differences = 0
for text in texts.map(\.bytes) + corpusBodies {
    if (try? rules.scan(text)) != (try? rules.scan(text, shortcuts: false)) { differences += 1 }
}
print("fast path vs reference path on all texts and bodies: \(differences == 0 ? "identical hits" : "\(differences) texts DIFFER")")
for file in ["dev.jsonl", "dev-evasion.jsonl"] where FileManager.default.fileExists(atPath: arguments.corpus + "/" + file) {
    if let report = try? CorpusEvaluator.evaluate(corpusPath: arguments.corpus + "/" + file, inspector: inspector) {
        print("\(file): \(report.summary)")
    }
}
if let dump = ProcessInfo.processInfo.environment["DUMP_TEXT"] {  // writes text (a), for offline analysis
    _ = FileManager.default.createFile(atPath: dump, contents: Data(texts[0].bytes))
}
