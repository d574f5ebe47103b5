import CPCRE2
import Foundation

/// Runs a `RuleSet` over one text (already normalised): prefilter, anchored windows, PCRE2, validators, allow
/// lists, context. Stateless apart from the match session it is given.
struct TextScanner {
    let ruleSet: RuleSet
    let session: MatchSession
    let minimumConfidence: Double
    var deadline: InspectionDeadline
    /// False: ignore `digitShape` and `startRun` and scan whole windows (the reference path the tests compare with).
    var shortcuts = true
    /// When set, every candidate's fate is written to it (`gatewayctl rules test --explain`).
    var trace: ScanTrace?
    /// How far after its anchor byte a match of a byte-anchored rule may end (the windows' reach).
    static let anchorReach = 288

    /// All accepted hits in `text`, in rule order then position. `only` restricts the scan to one rule (examples).
    /// Checks the deadline as it works (`ClockCadence`); whether it has passed before a text is the caller's check (a
    /// request's inspection checks once per 16 KiB of text, not per text).
    func scan(_ text: UnsafeBufferPointer<UInt8>, only: Int? = nil) throws(InspectionError) -> [ScanHit] {
        let rules = self.ruleSet.rules
        var hits: [ScanHit] = []
        if !self.ruleSet.unconditional.isEmpty {
            let whole = [CandidateWindows.Window(range: 0..<text.count, digits: Int.max)]
            for index in self.ruleSet.unconditional where only == nil || only == index {
                try self.run(rule: index, in: text, windows: whole, into: &hits)
            }
        }
        // Keyword rules run only on windows around their keywords' occurrences (TruffleHog-style), so a rule whose
        // pattern has no literal start (generic assignments, database URLs) costs nothing on text far from them.
        let wantsKeywords = only.map { rules[$0].anchor == .keywords && !rules[$0].keywords.isEmpty }
            ?? !self.ruleSet.keywordRules.isEmpty
        if wantsKeywords {
            // Indexed by rule: a keyword flood makes a hit every few bytes, and hashing per hit cost more than the scan.
            // Made only when a keyword occurs: most texts of a chat body (a model name, a role) have none.
            let keywordHits = self.ruleSet.prefilter.keywordHits(in: text)
            var windowsByRule = [[CandidateWindows.Window]](repeating: [], count: keywordHits.isEmpty ? 0 : rules.count)
            var cadence = ClockCadence()
            for (rule, end) in keywordHits where only == nil || only == rule {
                try cadence.add(ClockCadence.step, against: self.deadline)
                let range = max(0, end - rules[rule].keywordWindowBefore)..<min(text.count, end + rules[rule].keywordWindow)
                let count = windowsByRule[rule].count
                if count > 0, windowsByRule[rule][count - 1].range.upperBound >= range.lowerBound {
                    let lower = windowsByRule[rule][count - 1].range.lowerBound
                    windowsByRule[rule][count - 1].range = lower..<max(windowsByRule[rule][count - 1].range.upperBound, range.upperBound)
                } else {
                    windowsByRule[rule].append(CandidateWindows.Window(range: range, digits: 0))
                }
            }
            for index in windowsByRule.indices where !windowsByRule[index].isEmpty {
                try self.run(rule: index, in: text, windows: windowsByRule[index], into: &hits)
            }
        }
        for (byte, anchored) in self.ruleSet.byteAnchored {
            let wanted = only.map { rule in anchored.filter { $0 == rule } } ?? anchored
            guard !wanted.isEmpty else { continue }
            let windows = CandidateWindows.aroundByte(byte, in: text, before: 96, after: Self.anchorReach)
            guard !windows.isEmpty else { continue }
            for index in wanted {
                let rule = rules[index]
                if self.shortcuts, let startRun = rule.startRun, let anchoredPattern = rule.anchoredPattern {
                    try self.runAtStarts(rule: index, pattern: anchoredPattern, startRun: startRun, anchor: byte, in: text,
                                         windows: windows, into: &hits)
                } else {
                    try self.run(rule: index, in: text, windows: windows, into: &hits)
                }
            }
        }
        let digitRules = only.map { rule in self.ruleSet.digitAnchored.filter { $0.rule == rule } } ?? self.ruleSet.digitAnchored
        if !digitRules.isEmpty {
            let minimum = only == nil ? self.ruleSet.minimumDigitRun : digitRules.map(\.minimumDigits).min()!
            let windows = CandidateWindows.aroundDigitRuns(in: text, minimumDigits: minimum, pad: 40)
            if !windows.isEmpty {
                for (index, minimumDigits) in digitRules {
                    // A rule without a `digit_shape` runs on every window (a window may have no shape at all).
                    let shape = self.shortcuts ? rules[index].digitShape?.bit : nil
                    let usable = windows.filter { window in
                        window.digits >= minimumDigits && (shape.map { window.shapes & $0 != 0 } ?? true)
                    }
                    if !usable.isEmpty { try self.run(rule: index, in: text, windows: usable, into: &hits) }
                }
            }
        }
        return hits
    }

    private func run(rule index: Int, in text: UnsafeBufferPointer<UInt8>, windows: [CandidateWindows.Window],
                     into hits: inout [ScanHit]) throws(InspectionError)
    {
        let rule = self.ruleSet.rules[index]
        var resume = 0
        var cadence = ClockCadence()
        let required = rule.requiredBytes
        for window in windows {
            // The deadline is checked inside the loop, not only between texts: one text can be the whole body.
            try cadence.add(ClockCadence.window, against: self.deadline)
            var start = max(window.range.lowerBound, resume)
            if Self.lacksRequiredByte(required, in: text, from: start, to: window.range.upperBound) { continue }
            let subject = UnsafeBufferPointer(rebasing: text[0..<window.range.upperBound])
            while start < window.range.upperBound {
                let groups: [Range<Int>?]?
                do {
                    groups = try rule.pattern.firstMatch(in: subject, from: start, session: self.session)
                } catch {
                    throw .engineFailure(ruleID: rule.id, error)
                }
                guard let groups, let whole = groups[0] else { break }
                start = whole.isEmpty ? whole.upperBound + 1 : whole.upperBound
                resume = start
                try cadence.add(ClockCadence.match, against: self.deadline)
                try self.record(groups, whole: whole, rule: index, in: text, into: &hits)
            }
        }
    }

    /// Validator, allow list and context for one match of rule `index`; appends the hit when accepted.
    @inline(__always)
    private func record(_ groups: [Range<Int>?], whole: Range<Int>, rule index: Int, in text: UnsafeBufferPointer<UInt8>,
                        into hits: inout [ScanHit]) throws(InspectionError)
    {
        let rule = self.ruleSet.rules[index]
        let valueRange = rule.group.flatMap { $0 < groups.count ? groups[$0] : nil } ?? whole
        guard !valueRange.isEmpty else { return }
        if let confidence = try self.accept(rule: rule, value: valueRange, match: whole, in: text) {
            hits.append(ScanHit(ruleIndex: index, range: valueRange, confidence: confidence))
        }
    }

    /// Every match of a rule lies inside `start..<end`; when a rule names bytes every match must contain and none
    /// of them occurs there, no match can exist and the window is skipped without running the pattern.
    private static func lacksRequiredByte(
        _ required: [UInt8], in text: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int
    ) -> Bool {
        guard !required.isEmpty, start < end, let base = text.baseAddress else { return false }
        let present = required.withUnsafeBufferPointer { set in
            gw_contains_any(base + start, end - start, set.baseAddress, set.count)
        }
        return present == 0
    }

    /// `run` for a rule with `startRun`: the same matches as running the pattern over each window, found by running
    /// the anchored pattern only where a match can start. Every match contains the anchor byte and starts where the
    /// maximal run of `startRun` bytes before that anchor byte starts (the rule's contract), so within a window the
    /// candidate starts are exactly those run starts, in order; a run reaching back before the position the window
    /// scan would start from holds no match (any start inside it fails the contract).
    private func runAtStarts(rule index: Int, pattern: PCRE2Pattern, startRun: ByteSet, anchor: UInt8,
                             in text: UnsafeBufferPointer<UInt8>, windows: [CandidateWindows.Window],
                             into hits: inout [ScanHit]) throws(InspectionError)
    {
        guard let base = text.baseAddress else { return }
        let rule = self.ruleSet.rules[index]
        var resume = 0
        var cadence = ClockCadence()
        let required = rule.requiredBytes
        let singleRequired = required.count == 1 ? required[0] : nil
        var nextRequired = -1
        for window in windows {
            var start = max(window.range.lowerBound, resume)
            let upper = window.range.upperBound
            if Self.lacksRequiredByte(required, in: text, from: start, to: upper) { continue }
            let subject = UnsafeBufferPointer(rebasing: text[0..<upper])
            var position = start
            while position < upper {
                guard let found = memchr(base + position, Int32(anchor), upper - position) else { break }
                let at = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
                position = at + 1
                try cadence.add(ClockCadence.step, against: self.deadline)
                var candidate = at
                while candidate > start && startRun.contains(base[candidate - 1]) { candidate -= 1 }
                if candidate == start && start > 0 && startRun.contains(base[start - 1]) { continue }
                if at - candidate < rule.minimumStartRun { continue }
                if let only = singleRequired {
                    // Every match holds the required byte, within the rule's reach after the anchor; one memchr
                    // serves all candidates up to the byte it found.
                    if nextRequired < candidate {
                        nextRequired = memchr(base + candidate, Int32(only), upper - candidate)
                            .map { base.distance(to: $0.assumingMemoryBound(to: UInt8.self)) } ?? upper
                    }
                    if nextRequired >= min(upper, at + Self.anchorReach) { continue }
                }
                let groups: [Range<Int>?]?
                do {
                    groups = try pattern.firstMatch(in: subject, from: candidate, session: self.session)
                } catch {
                    throw .engineFailure(ruleID: rule.id, error)
                }
                guard let groups, let whole = groups[0] else { continue }
                start = whole.isEmpty ? whole.upperBound + 1 : whole.upperBound
                resume = start
                position = max(position, start)
                try cadence.add(ClockCadence.match, against: self.deadline)
                try self.record(groups, whole: whole, rule: index, in: text, into: &hits)
            }
        }
    }

    /// Validator, allow list and context for one candidate; the confidence when accepted, nil when rejected.
    private func accept(rule: Rule, value range: Range<Int>, match: Range<Int>, in text: UnsafeBufferPointer<UInt8>)
        throws(InspectionError) -> Double?
    {
        let value = String(decoding: UnsafeBufferPointer(rebasing: text[range]), as: UTF8.self)[...]
        if let validator = rule.validator, !validator.accepts(value) {
            self.trace?.record(rule: rule, span: range, value: value, outcome: .validatorRejected("\(validator)"))
            return nil
        }
        if rule.category == .secret, Validators.isPlaceholder(value) {
            self.trace?.record(rule: rule, span: range, value: value, outcome: .placeholder)
            return nil
        }
        if rule.allowValues.contains(String(value)) {
            self.trace?.record(rule: rule, span: range, value: value, outcome: .allowedValue)
            return nil
        }
        for allowed in rule.allowPatterns {
            let matched: Bool
            do { matched = try allowed.matches(String(value), session: self.session) } catch {
                throw .engineFailure(ruleID: rule.id, error)
            }
            if matched {
                self.trace?.record(rule: rule, span: range, value: value, outcome: .allowedPattern(allowed.source))
                return nil
            }
        }
        var confidence = rule.confidence
        var around = (raised: [String](), lowered: [String]())
        if let context = rule.context {
            let lower = context.direction == .after ? match.lowerBound : max(0, match.lowerBound - context.window)
            let upper = context.direction == .before ? match.upperBound : min(text.count, match.upperBound + context.window)
            let (raised, lowered) = Self.contextWords(context, before: UnsafeBufferPointer(rebasing: text[lower..<match.lowerBound]),
                                                      after: UnsafeBufferPointer(rebasing: text[match.upperBound..<upper]))
            if raised { confidence += context.step }
            if lowered { confidence -= context.step }
            if self.trace != nil {
                let window = String(decoding: UnsafeBufferPointer(rebasing: text[lower..<match.lowerBound]), as: UTF8.self)
                    + " " + String(decoding: UnsafeBufferPointer(rebasing: text[match.upperBound..<upper]), as: UTF8.self)
                around = ScanTrace.contextWords(context, around: window)
            }
        }
        confidence = min(1, max(0, confidence))
        guard confidence >= self.minimumConfidence else {
            self.trace?.record(rule: rule, span: range, value: value, outcome: .belowMinimum(
                confidence: confidence, minimum: self.minimumConfidence, raised: around.raised, lowered: around.lowered))
            return nil
        }
        self.trace?.record(rule: rule, span: range, value: value, outcome: .accepted(
            confidence: confidence, raised: around.raised, lowered: around.lowered))
        return confidence
    }

    /// Whether a raising / a lowering context word occurs in `before + " " + after`, lower-cased. ASCII text and
    /// words are compared as bytes; anything else goes through `String` (Unicode lower-casing) as before.
    static func contextWords(_ context: RuleContext, before: UnsafeBufferPointer<UInt8>, after: UnsafeBufferPointer<UInt8>)
        -> (raise: Bool, lower: Bool)
    {
        let words = context.raise + context.lower
        if TextNormalizer.isASCII(before), TextNormalizer.isASCII(after), words.allSatisfy({ !$0.isEmpty && $0.utf8.allSatisfy { $0 < 0x80 } }) {
            let total = before.count + 1 + after.count
            return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: total) { around in
                var index = 0
                for byte in before { around[index] = byte &- 65 < 26 ? byte | 0x20 : byte; index += 1 }
                around[index] = 0x20
                index += 1
                for byte in after { around[index] = byte &- 65 < 26 ? byte | 0x20 : byte; index += 1 }
                let haystack = UnsafeBufferPointer(around)
                func contains(_ word: String) -> Bool {
                    var word = word
                    return word.withUTF8 { needle in
                        guard needle.count <= haystack.count else { return false }
                        let first = needle[0]
                        var position = 0
                        while position + needle.count <= haystack.count {
                            if haystack[position] == first,
                                memcmp(haystack.baseAddress! + position, needle.baseAddress!, needle.count) == 0
                            {
                                return true
                            }
                            position += 1
                        }
                        return false
                    }
                }
                return (context.raise.contains(where: contains), context.lower.contains(where: contains))
            }
        }
        let around = String(decoding: before, as: UTF8.self).lowercased() + " "
            + String(decoding: after, as: UTF8.self).lowercased()
        return (context.raise.contains(where: { around.contains($0) }), context.lower.contains(where: { around.contains($0) }))
    }
}

/// When the scanner reads the clock: after a given amount of work, not at every step (reading it costs about 0.1 µs).
/// Out of a budget of 4096 units, a match (validators, allow lists, context) weighs 64, a window 16, an anchor
/// candidate or keyword hit 1: the clock is read every 64 matches, 256 windows or 4096 candidates, so a text of any
/// shape is checked within a few milliseconds of scanning.
struct ClockCadence {
    static let budget = 4096
    static let step = 1
    static let window = 16
    static let match = 64

    private var work = 0

    mutating func add(_ units: Int, against deadline: InspectionDeadline) throws(InspectionError) {
        self.work += units
        guard self.work >= Self.budget else { return }
        self.work = 0
        try deadline.check()
    }
}
