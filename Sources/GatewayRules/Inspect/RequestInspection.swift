import GatewayCrypto
import GatewayDocuments

/// The per-request state of an inspection: findings so far, placeholder numbering (same value -> same placeholder
/// within the request), the most severe action, and the scanner. Not shared between requests or threads.
struct RequestInspection {
    let ruleSet: RuleSet
    let policy: CategoryPolicy
    let fingerprintMAC: HMACKey
    private(set) var scanner: TextScanner

    private(set) var findings: [Finding] = []
    private(set) var mostSevere: CategoryAction = .allow
    private(set) var inspectedBytes = 0
    private var placeholderNumbers: [String: [String: Int]] = [:]
    /// Text bytes seen since the deadline was last checked; nil before the first text.
    private var bytesSinceClockCheck: Int?
    /// How often the deadline was checked between texts (the cadence `clockCheckBytes` sets; tests hold it).
    private(set) var clockChecks = 0
    /// The request's documents, made when the first one is found (`enterDocument`): most bodies carry none, and a
    /// chat body then pays for no budget object and no larger copies of this state.
    private(set) var documentState: DocumentState?
    let documentLimits: DocumentLimits

    /// The documents found so far (see `BodyInspector+Documents`).
    var documents: [DocumentSummary] { self.documentState?.summaries ?? [] }
    /// Why a document blocks the request.
    var documentBlocks: [String] { self.documentState?.blocks ?? [] }

    /// The deadline is checked before the first text and then once per this many bytes of text (the scanner also
    /// checks every 64 matches), not before every text: a chat body is a dozen short texts, and reading the clock
    /// costs about 0.1 µs here, a tenth of the inspection of such a body if done per text. Scanning 16 KiB takes
    /// well under a millisecond, far below any deadline's granularity.
    static let clockCheckBytes = 16 * 1024

    /// Texts shorter than this cannot hold any value the rules look for; skipping them saves work on JSON keys and
    /// enum-like values (`"role": "user"`).
    static let shortestInterestingText = 5

    init(ruleSet: RuleSet, policy: CategoryPolicy, fingerprintMAC: HMACKey, session: MatchSession,
         deadline: InspectionDeadline, documentLimits: DocumentLimits = .default, trace: ScanTrace? = nil)
    {
        self.documentLimits = documentLimits
        self.ruleSet = ruleSet
        self.policy = policy
        self.fingerprintMAC = fingerprintMAC
        self.scanner = TextScanner(ruleSet: ruleSet, session: session, minimumConfidence: policy.minimumConfidence,
                                   deadline: deadline)
        self.scanner.trace = trace
    }

    /// The body carries a document: the deadline becomes the document deadline (`InspectionDeadline.forDocuments`),
    /// for the scanner and for extraction alike. Returns the request's document state (made on the first call).
    @discardableResult
    mutating func enterDocument() -> DocumentState {
        if let state = self.documentState { return state }
        let deadline = self.scanner.deadline.forDocuments
        self.scanner.deadline = deadline
        let state = DocumentState(budget: ExtractionBudget(limits: self.documentLimits, deadline: deadline.instant))
        self.documentState = state
        return state
    }

    /// Findings kept once the request is certain to be blocked: more would change nothing but the record's length
    /// and the time a hostile body full of secrets takes to refuse.
    static let findingsAfterBlock = 64

    /// Whether the decision is settled (a block) and enough findings are kept to say why.
    var isSettled: Bool { self.mostSevere == .block && self.findings.count >= Self.findingsAfterBlock }

    /// Scans one text (a decoded JSON string, a text body, a form part) and records its findings. Returns the
    /// redacted text when the policy redacts something in it, nil when the text stays as it is, or when the
    /// decision is already settled (`isSettled`).
    /// - Parameter pairedKey: the JSON member name the text is the value of, when that name says it holds a secret
    ///   (`api_token`, `password`, ...): the value is scanned as `name: value`, so an assignment rule sees the pair
    ///   a JSON body splits into two strings. Findings inside the name itself are dropped (the name is scanned on
    ///   its own).
    mutating func inspect(
        _ text: UnsafeBufferPointer<UInt8>, location: () -> String, pairedKey: [UInt8]? = nil
    ) throws(InspectionError) -> [UInt8]? {
        if self.isSettled { return nil }
        self.inspectedBytes += text.count
        if (self.bytesSinceClockCheck ?? Self.clockCheckBytes) >= Self.clockCheckBytes {
            self.clockChecks += 1
            try self.scanner.deadline.check()
            self.bytesSinceClockCheck = 0
        }
        self.bytesSinceClockCheck? += text.count
        guard text.count >= Self.shortestInterestingText else { return nil }
        if let trace = self.scanner.trace { trace.location = location() + (pairedKey == nil ? "" : " (with its name)") }
        let resolved: [ResolvedHit]
        if let key = pairedKey {
            let prefix = key + [UInt8(ascii: ":"), UInt8(ascii: " ")]
            let combined = prefix + Array(text)
            resolved = try combined.withUnsafeBufferPointer { (buffer) throws(InspectionError) -> [ResolvedHit] in
                try self.resolvedHits(in: buffer)
            }.compactMap { hit in
                guard hit.originalRange.lowerBound >= prefix.count else { return nil }
                var shifted = hit
                shifted.originalRange = (hit.originalRange.lowerBound - prefix.count)..<(hit.originalRange.upperBound - prefix.count)
                return shifted
            }
        } else {
            resolved = try self.resolvedHits(in: text)
        }
        guard !resolved.isEmpty else { return nil }

        let place = location()
        var edits: [(range: Range<Int>, replacement: [UInt8])] = []
        for hit in resolved {
            if self.isSettled { break }
            let rule = self.ruleSet.rules[hit.ruleIndex]
            let value = String(decoding: hit.valueBytes, as: UTF8.self)
            let treatment = self.policy.treatment(for: rule.category)
            var replacement: String?
            if treatment.action == .redact {
                replacement = self.replacement(for: value, rule: rule, style: treatment.style ?? rule.redaction)
                edits.append((hit.originalRange, Array(replacement!.utf8)))
            }
            if treatment.action.severity > self.mostSevere.severity { self.mostSevere = treatment.action }
            self.findings.append(Finding(
                ruleID: rule.id, type: rule.type, category: rule.category, location: place,
                confidence: hit.confidence, fingerprint: self.fingerprint(value),
                preview: MaskedPreview.make(value, category: rule.category), action: treatment.action,
                replacement: replacement))
        }
        guard !edits.isEmpty else { return nil }
        return Self.apply(edits, to: text)
    }

    /// A scan hit with its value and its range in the text as given (before normalisation).
    struct ResolvedHit {
        let ruleIndex: Int
        let confidence: Double
        let valueBytes: [UInt8]
        var originalRange: Range<Int>
    }

    /// The hits in `text` (normalised first when it needs it), in order of position.
    private func resolvedHits(in text: UnsafeBufferPointer<UInt8>) throws(InspectionError) -> [ResolvedHit] {
        let normalized = TextNormalizer.normalize(text)
        let hits: [ScanHit]
        if let normalized {
            hits = try normalized.bytes.withUnsafeBufferPointer { (buffer) throws(InspectionError) -> [ScanHit] in
                try self.scanner.scan(buffer)
            }
        } else {
            hits = try self.scanner.scan(text)
        }
        return hits.sorted(by: { $0.range.lowerBound < $1.range.lowerBound }).map { hit in
            if let normalized {
                ResolvedHit(ruleIndex: hit.ruleIndex, confidence: hit.confidence,
                            valueBytes: Array(normalized.bytes[hit.range]), originalRange: normalized.originalRange(of: hit.range))
            } else {
                ResolvedHit(ruleIndex: hit.ruleIndex, confidence: hit.confidence, valueBytes: Array(text[hit.range]),
                            originalRange: hit.range)
            }
        }
    }

    /// A first look at a member name literal as written (quotes included), without decoding or allocating: every
    /// secret word holds an `s`, `k` or `d` and has at least five letters, so a name with none of those letters, or
    /// shorter, is settled here. A name with an escape goes on to be decoded. `namesSecret` decides the rest.
    static func mayNameSecret(_ literal: UnsafeBufferPointer<UInt8>) -> Bool {
        var candidate = false
        for byte in literal {
            switch byte | 0x20 {
            case UInt8(ascii: "s"), UInt8(ascii: "k"), UInt8(ascii: "d"): candidate = true
            default: break
            }
            if byte == UInt8(ascii: "\\") { return true }
        }
        return candidate && literal.count >= 7
    }

    /// Whether a JSON member name says its value is a secret (so the value is scanned paired with it): ASCII, at
    /// most 64 bytes, and holding one of the generic secret words.
    static func namesSecret(_ key: [UInt8]) -> Bool {
        guard !key.isEmpty, key.count <= 64, key.allSatisfy({ $0 < 0x80 }) else { return false }
        let lowered = key.map { $0 &- 65 < 26 ? $0 | 0x20 : $0 }
        return lowered.withUnsafeBufferPointer { name in
            Self.secretWords.contains { ByteText.firstIndex(of: $0, in: name) != nil }
        }
    }

    private static let secretWords: [[UInt8]] = ["password", "passwd", "secret", "token", "api_key", "apikey",
                                                   "api-key", "private_key", "access_key", "auth_key", "credential"]
        .map { Array($0.utf8) }

    /// HMAC-SHA256 of the value under the inspector key, first 16 hex characters.
    func fingerprint(_ value: String) -> String { Self.fingerprint(value, mac: self.fingerprintMAC) }

    /// First 8 bytes of HMAC-SHA256(value) as 16 lower-case hex characters (same as `Crypto.hex(...).prefix(16)`).
    static func fingerprint(_ value: String, mac: HMACKey) -> String {
        var value = value
        return value.withUTF8 { utf8 in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 32) { digest in
                mac.mac(UnsafeRawBufferPointer(utf8), into: digest)
                return String(unsafeUninitializedCapacity: 16) { out in
                    let digits: StaticString = "0123456789abcdef"
                    let table = digits.utf8Start
                    for index in 0..<8 {
                        out[2 * index] = table[Int(digest[index] >> 4)]
                        out[2 * index + 1] = table[Int(digest[index] & 0x0F)]
                    }
                    return 16
                }
            }
        }
    }

    private mutating func replacement(for value: String, rule: Rule, style: RedactionStyle) -> String {
        switch style {
        case .placeholder:
            let label = rule.placeholderLabel
            // Updated in place: copying the per-label map out and back would make many findings quadratic.
            let known = self.placeholderNumbers[label]?[value]
            let number = known ?? ((self.placeholderNumbers[label]?.count ?? 0) + 1)
            if known == nil { self.placeholderNumbers[label, default: [:]][value] = number }
            return "[\(label)_\(number)]"
        case .mask(let keepLast):
            if let fast = Self.asciiMask(value, keepLast: keepLast) { return fast }
            var characters = Array(value)
            var kept = 0
            for position in characters.indices.reversed() where characters[position].isLetter || characters[position].isNumber {
                if kept < keepLast { kept += 1 } else { characters[position] = "*" }
            }
            return String(characters)
        case .keyedHash:
            return "[\(rule.placeholderLabel):\(self.fingerprint(value).prefix(12))]"
        }
    }

    /// `.mask` for ASCII values without CR (one byte per Character): letters and digits become `*` except the last
    /// `keepLast` of them.
    static func asciiMask(_ value: String, keepLast: Int) -> String? {
        var value = value
        return value.withUTF8 { bytes -> String? in
            for byte in bytes where byte >= 0x80 || byte == 0x0D { return nil }
            var out = Array(bytes)
            var kept = 0
            for position in out.indices.reversed() {
                let byte = out[position]
                let alphanumeric = byte &- 48 < 10 || (byte | 0x20) &- 97 < 26
                guard alphanumeric else { continue }
                if kept < keepLast { kept += 1 } else { out[position] = UInt8(ascii: "*") }
            }
            return String(decoding: out, as: UTF8.self)
        }
    }

    /// Applies non-overlapping edits; overlapping spans (two rules on the same value) are merged into one span
    /// replaced by the first replacement, so no fragment of either value survives.
    static func apply(_ edits: [(range: Range<Int>, replacement: [UInt8])], to text: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        var merged: [(range: Range<Int>, replacement: [UInt8])] = []
        for edit in edits.sorted(by: { $0.range.lowerBound < $1.range.lowerBound }) {
            if let last = merged.last, edit.range.lowerBound < last.range.upperBound {
                merged[merged.count - 1].range = last.range.lowerBound..<max(last.range.upperBound, edit.range.upperBound)
            } else {
                merged.append(edit)
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(text.count)
        var position = 0
        for edit in merged {
            out.append(contentsOf: UnsafeBufferPointer(rebasing: text[position..<edit.range.lowerBound]))
            out.append(contentsOf: edit.replacement)
            position = edit.range.upperBound
        }
        out.append(contentsOf: UnsafeBufferPointer(rebasing: text[position..<text.count]))
        return out
    }
}

/// What one request's documents share: the extraction budget, and what was found. A reference, so that a copy of
/// the inspection state (a rewrite's second reading) spends from the same budget.
final class DocumentState {
    let budget: ExtractionBudget
    var summaries: [DocumentSummary] = []
    var blocks: [String] = []

    init(budget: ExtractionBudget) {
        self.budget = budget
    }
}
