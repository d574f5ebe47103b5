@testable import GatewayRules
import Testing

/// The scan shortcuts (digit-shape gating, anchored e-mail starts, the C digit-run and pair scanners) must report
/// exactly what the plain window scan reports.
@Suite struct ShortcutEquivalenceTests {
    static let fragments: [String] = [
        " ", " ", "-", "-", ".", "+", "(", ")", ",", ":", "/", "@", "@", "_", "%", "\n", "  ", " - ",
        "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "12", "123", "1234", "12345", "123456", "555", "0132", "+1",
        "+44", "AB", "DE", "GB", "JG", "QQ", "a", "x", "Z", "A", "C", "D", "ssn", "SIN", "routing", "order", "card",
        "jo.smith", "a_b+tag", "acme-widgets", ".co", ".uk", ".com", "example.org", "git", "2x.png", "..", "@@",
        "536-22-1234", "536 22 1234", "470-578-626", "113 486 047", "269624201", "021000021", "4620966542870724",
        "4620 9665 4287 0724", "3753 861408 31603", "(415) 555-0132", "+44 20 7946 0958", "+14155550132",
        "JG 10 37 94 C", "AB123456D", "DE89 3704 0044 0532 0130 00", "NL91ABNA0417164300", "2025-01-12 10:22:07",
        "978-3-103-46173-0", "jo@acme.com", "jo.smith@ac-me.co.uk", "x@y", "user@localhost", "@MainActor",
    ]

    static func randomText(_ generator: inout some RandomNumberGenerator, pieces: Int) -> [UInt8] {
        var text: [UInt8] = []
        for _ in 0..<pieces {
            if Int.random(in: 0..<8, using: &generator) == 0 {
                text.append(UInt8.random(in: 0x20...0x7E, using: &generator))
            } else {
                text += Array(fragments.randomElement(using: &generator)!.utf8)
            }
        }
        return text
    }

    @Test func shortcutsReportTheSameHitsOnRandomTexts() throws {
        var generator = SystemRandomNumberGenerator()
        let rules = TestSupport.defaultRules
        var hitsSeen = 0
        for round in 0..<3000 {
            let text = Self.randomText(&generator, pieces: Int.random(in: 1...(round % 20 == 0 ? 1500 : 80), using: &generator))
            let fast = try rules.scan(text)
            let reference = try rules.scan(text, shortcuts: false)
            hitsSeen += reference.count
            #expect(fast == reference, "text: \(String(decoding: text, as: UTF8.self).debugDescription)")
            if fast != reference { return }
        }
        #expect(hitsSeen > 1000)  // the texts do exercise the rules
    }

    @Test func shortcutsReportTheSameHitsOnEveryExample() throws {
        let rules = TestSupport.defaultRules
        for rule in rules.rules {
            for example in rule.examples.match + rule.examples.noMatch {
                let text = TextNormalizer.normalize(example).bytes
                #expect(try rules.scan(text) == rules.scan(text, shortcuts: false), "\(rule.id): \(example)")
            }
        }
    }

    /// The C digit-run scanner gives the windows of the previous Swift loop (kept here as the reference).
    @Test func digitRunWindowsEqualTheReferenceLoop() {
        var generator = SystemRandomNumberGenerator()
        for round in 0..<2000 {
            let text = Self.randomText(&generator, pieces: Int.random(in: 0...(round % 20 == 0 ? 2000 : 100), using: &generator))
            text.withUnsafeBufferPointer { buffer in
                for minimum in [1, 6, 9] {
                    let fast = CandidateWindows.aroundDigitRuns(in: buffer, minimumDigits: minimum, pad: 40)
                    let reference = Self.referenceDigitRuns(in: buffer, minimumDigits: minimum, pad: 40)
                    #expect(fast.map(\.range) == reference.map(\.range))
                    #expect(fast.map(\.digits) == reference.map(\.digits))
                }
            }
        }
    }

    /// The C digit-run scanner near run edges: long runs, gaps of exactly `maxGap` and one more, letters, several
    /// minimum digit counts and gap limits, and the end of the text.
    @Test func digitRunMasksEqualTheReferenceLoopOnDenseRuns() {
        var generator = SystemRandomNumberGenerator()
        let pieces = ["1", "23", "4567", "0", " ", "-", "  ", "   ", "    ", ".-.", "a", "Z", "GB", "@", "\n"]
        for _ in 0..<3000 {
            var text: [UInt8] = []
            for _ in 0..<Int.random(in: 0...160, using: &generator) { text += Array(pieces.randomElement(using: &generator)!.utf8) }
            text.withUnsafeBufferPointer { buffer in
                for minimum in [1, 6, 9, 13] {
                    for maxGap in [0, 1, 3] {
                        let fast = CandidateWindows.aroundDigitRuns(in: buffer, minimumDigits: minimum, pad: 40, maxGap: maxGap)
                        let reference = Self.referenceDigitRuns(in: buffer, minimumDigits: minimum, pad: 40, maxGap: maxGap)
                        #expect(fast.map(\.range) == reference.map(\.range))
                        #expect(fast.map(\.digits) == reference.map(\.digits))
                    }
                }
            }
        }
    }

    /// The whole-block digit-run scanner (`gw_digit_runs_blocks`: bitmasks, candidate test that skips blocks) gives
    /// exactly the runs of the byte-by-byte `gw_digit_runs`: starts, ends, digit counts, IBAN flags, with small output
    /// capacities (restarts in the middle of the text), runs across 64-byte block edges, hex hashes, upper-case
    /// letter pairs before digits (IBAN starts) at block edges, and every minimum / gap limit the engine could use.
    @Test func blockDigitRunsEqualTheByteLoop() {
        var generator = SystemRandomNumberGenerator()
        let pieces = ["1", "23", "4567", "123456", "0", " ", "-", "  ", "   ", "    ", ".-.", "a", "Z", "GB", "DE89", "@",
                      "\n", "e3b0c442", "98fc1c14", "9afbf4c8", "version 3.12.100", "2025-01-12", "the ", "AB 12"]
        for round in 0..<4000 {
            var text: [UInt8] = []
            let count = Int.random(in: 0...(round % 10 == 0 ? 600 : 90), using: &generator)
            for _ in 0..<count {
                if Int.random(in: 0..<10, using: &generator) == 0 {
                    text.append(UInt8.random(in: 0...255, using: &generator))
                } else {
                    text += Array(pieces.randomElement(using: &generator)!.utf8)
                }
            }
            text.withUnsafeBufferPointer { buffer in
                for minimum in [0, 1, 2, 6, 7, 9, 13] {
                    for maxGap in [0, 1, 2, 3, 5] {
                        for capacity in [1, 2, 256] where capacity == 256 || round % 4 == 0 {
                            let fast = CandidateWindows.rawDigitRuns(in: buffer, minimumDigits: minimum, maxGap: maxGap,
                                                                     capacity: capacity, blocks: true)
                            let reference = CandidateWindows.rawDigitRuns(in: buffer, minimumDigits: minimum, maxGap: maxGap,
                                                                          capacity: 256, blocks: false)
                            #expect(fast == reference, "min \(minimum) gap \(maxGap) cap \(capacity): \(text)")
                            if fast != reference { return }
                        }
                    }
                }
            }
        }
    }

    @Test func byteSetParsesClassBodies() {
        let set = ByteSet(classSpelling: "A-Za-z0-9._%+-")!
        for byte in UInt8(0)...UInt8(255) {
            let expected = (byte >= 65 && byte <= 90) || (byte >= 97 && byte <= 122) || (byte >= 48 && byte <= 57)
                || [46, 95, 37, 43, 45].contains(byte)
            #expect(set.contains(byte) == expected, "byte \(byte)")
        }
        #expect(ByteSet(classSpelling: "") == nil)
        #expect(ByteSet(classSpelling: "z-a") == nil)
        #expect(ByteSet(classSpelling: "\\d") == nil)
    }

    /// The digit-run loop as it was before the C scanner (windows and digit counts only).
    static func referenceDigitRuns(in text: UnsafeBufferPointer<UInt8>, minimumDigits: Int, pad: Int, maxGap: Int = 3)
        -> [(range: Range<Int>, digits: Int)]
    {
        let count = text.count
        var windows: [(range: Range<Int>, digits: Int)] = []
        var index = 0
        while index < count {
            while index < count && text[index] &- 48 >= 10 { index += 1 }
            guard index < count else { break }
            let runStart = index
            var runEnd = index
            var digits = 0
            var gap = 0
            while index < count {
                let byte = text[index]
                if byte &- 48 < 10 {
                    digits += 1
                    gap = 0
                    runEnd = index + 1
                } else {
                    if (byte | 0x20) &- UInt8(ascii: "a") < 26 { break }
                    gap += 1
                    if gap > maxGap { break }
                }
                index += 1
            }
            index = runEnd
            guard digits >= minimumDigits else { continue }
            let range = max(0, runStart - pad)..<min(count, runEnd + pad)
            if let last = windows.last, last.range.upperBound >= range.lowerBound {
                windows[windows.count - 1] = (last.range.lowerBound..<range.upperBound, max(last.digits, digits))
            } else {
                windows.append((range, digits))
            }
        }
        return windows
    }
}
