import Synchronization

/// The compiled, immutable rule pack: rules, keyword prefilter, anchor plans and a pool of match sessions.
/// Built once at start-up (by `RuleLoader`) and shared by every event loop.
public final class RuleSet: Sendable {
    public let rules: [Rule]
    public let limits: MatchLimits
    let prefilter: KeywordPrefilter
    /// Rules with neither keywords nor an anchor: run on every text.
    let unconditional: [Int]
    let keywordRules: [Int]
    /// Anchor byte -> rules anchored on it.
    let byteAnchored: [(byte: UInt8, rules: [Int])]
    /// Rules anchored on digit runs, with their minimum digit count.
    let digitAnchored: [(rule: Int, minimumDigits: Int)]
    let minimumDigitRun: Int
    private let pool: Mutex<[MatchSession]>

    /// Bytes before a keyword's end where a keyword rule's window starts (room for the keyword itself and for prefixes
    /// such as a URL scheme before `://`).
    public static let keywordWindowBefore = 256
    /// Default bytes after a keyword that a keyword rule's window covers (`window:` in a rule file overrides).
    public static let defaultKeywordWindow = 1024

    /// Bytes examined on each side of a rule's match for its context words.
    static let defaultContextWindow = 48

    /// SHA-256 (hex) of the rule files this set was compiled from, each file's name and contents in load order: the
    /// `ruleSetHash` decision records carry. Empty for sets built from rules directly (tests).
    public let sourceDigest: String

    /// The rules marked `mode: shadow`, compiled as a set of their own: they run beside this set on live traffic
    /// and only report what they would have done (nil when there are none).
    public let shadow: RuleSet?

    public init(rules: [Rule], limits: MatchLimits = .default, sourceDigest: String = "", shadow: RuleSet? = nil) {
        self.sourceDigest = sourceDigest
        self.shadow = shadow
        self.rules = rules
        self.limits = limits
        self.prefilter = KeywordPrefilter(keywords: rules.map { $0.anchor == .keywords ? $0.keywords : [] })
        var unconditional: [Int] = []
        var keywordRules: [Int] = []
        var byteAnchored: [UInt8: [Int]] = [:]
        var digitAnchored: [(Int, Int)] = []
        for (index, rule) in rules.enumerated() {
            switch rule.anchor {
            case .keywords: if rule.keywords.isEmpty { unconditional.append(index) } else { keywordRules.append(index) }
            case .byte(let byte): byteAnchored[byte, default: []].append(index)
            case .digitRun(let minimum): digitAnchored.append((index, minimum))
            }
        }
        self.unconditional = unconditional
        self.keywordRules = keywordRules
        self.byteAnchored = byteAnchored.sorted { $0.key < $1.key }.map { (byte: $0.key, rules: $0.value) }
        self.digitAnchored = digitAnchored.map { (rule: $0.0, minimumDigits: $0.1) }
        self.minimumDigitRun = digitAnchored.map(\.1).min() ?? Int.max
        self.pool = Mutex([])
    }

    /// Runs `body` with a match session from the pool (made on demand, returned afterwards).
    public func withSession<Result, Failure: Error>(_ body: (MatchSession) throws(Failure) -> Result)
        throws(Failure) -> Result
    {
        let session = self.pool.withLock { $0.popLast() } ?? MatchSession(limits: self.limits)
        defer { self.pool.withLock { if $0.count < 64 { $0.append(session) } } }
        return try body(session)
    }

    /// Scans one (normalised) text with every rule and returns the accepted hits, for tests and tools.
    /// `shortcuts: false` runs the reference path (no digit-shape gating, no anchored starts); both must agree.
    public func scan(_ text: [UInt8], shortcuts: Bool = true, minimumConfidence: Double = 0.5) throws(InspectionError)
        -> [ScanHit]
    {
        try self.withSession { (session) throws(InspectionError) -> [ScanHit] in
            var scanner = TextScanner(ruleSet: self, session: session, minimumConfidence: minimumConfidence, deadline: .none)
            scanner.shortcuts = shortcuts
            return try text.withUnsafeBufferPointer { (buffer) throws(InspectionError) -> [ScanHit] in try scanner.scan(buffer) }
        }
    }

    /// The rule with this id, if any.
    public func rule(id: String) -> Rule? { self.rules.first { $0.id == id } }
}
