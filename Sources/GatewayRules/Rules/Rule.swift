/// Where a rule's regex runs inside a text. Cheap anchors keep the whole set fast: a rule only runs where its
/// keyword, its required character or a long enough digit run occurs.
public enum RuleAnchor: Sendable, Hashable {
    /// Runs over the whole text when one of the rule's keywords occurs (or always, when it has none).
    case keywords
    /// Runs on windows around each occurrence of one required byte (e.g. `@` for e-mail addresses).
    case byte(UInt8)
    /// Runs on windows around runs of at least `minimumDigits` digits (separators allowed between them).
    case digitRun(minimumDigits: Int)
}

/// Context words near a match that raise or lower its confidence.
public struct RuleContext: Sendable, Hashable {
    /// Bytes searched on each side of the match.
    public var window: Int
    /// Lower-case words that raise confidence by `step` when present.
    public var raise: [String]
    /// Lower-case words that lower confidence by `step` when present.
    public var lower: [String]
    public var step: Double
    /// Which side of the match is searched: words like "tracking number" or "SSN:" precede the value, so a
    /// `before` context is not fooled by unrelated words after it.
    public var direction: Direction

    public enum Direction: String, Sendable, Hashable {
        case before, after, both
    }
}

/// Example texts that must (and must not) produce a finding of the rule; checked at load time.
public struct RuleExamples: Sendable, Hashable {
    public var match: [String]
    public var noMatch: [String]
}

/// One compiled rule. Immutable and shareable; built by `RuleLoader`. A class: the scanner reads rules in its
/// innermost loops, and copying a struct of two dozen references retained and released each of them per candidate.
public final class Rule: Sendable {
    public let id: String
    public let description: String
    public let category: Category
    /// The data type found, e.g. `email`, `credit_card`, `github_token` (the acceptance corpus' names).
    public let type: String
    public let pattern: PCRE2Pattern
    /// The capture group whose text is the sensitive value; nil means the whole match.
    public let group: Int?
    /// Lower-case literals for the prefilter.
    public let keywords: [String]
    public let anchor: RuleAnchor
    /// For keyword rules: bytes after each keyword occurrence the pattern may use (matches must end inside).
    public let keywordWindow: Int
    /// For keyword rules: bytes before each keyword occurrence's end where the window starts (keyword included).
    public let keywordWindowBefore: Int
    /// Bytes of which every match contains at least one (`requires:` in the rule file, e.g. ":=" for assignments):
    /// a window without any of them cannot hold a match and is skipped without running the pattern. Empty: no
    /// such shortcut.
    public let requiredBytes: [UInt8]
    /// For digit-run rules (`digit_shape:` in the rule file): the digit-group shape every accepted match has, so a
    /// window whose runs lack it is skipped without running the pattern. Nil: every long enough window is scanned.
    public let digitShape: DigitShape?
    /// For byte-anchored rules (`start_run:` in the rule file): bytes such that every match starts exactly where the
    /// maximal run of them ending right before an anchor byte starts. The rule then runs as `anchoredPattern`, once
    /// at each such start, instead of over whole windows. Nil: windows as before.
    let startRun: ByteSet?
    /// `pattern` compiled with PCRE2_ANCHORED (only with `startRun`).
    let anchoredPattern: PCRE2Pattern?
    /// `min_start_run:` the fewest `startRun` bytes any match has before its anchor (an e-mail address has a local
    /// part), so an anchor with a shorter run before it is no candidate and costs no PCRE2 call.
    let minimumStartRun: Int
    public let validator: RuleValidator?
    public let context: RuleContext?
    /// Confidence before context adjustments, 0...1.
    public let confidence: Double
    public let allowValues: Set<String>
    public let allowPatterns: [PCRE2Pattern]
    public let redaction: RedactionStyle
    public let examples: RuleExamples
    /// The rule file the rule came from (for messages).
    public let file: String

    init(
        id: String, description: String, category: Category, type: String, pattern: PCRE2Pattern, group: Int?, keywords: [String], anchor: RuleAnchor, keywordWindow: Int, keywordWindowBefore: Int, requiredBytes: [UInt8], digitShape: DigitShape?, startRun: ByteSet?, anchoredPattern: PCRE2Pattern?, minimumStartRun: Int, validator: RuleValidator?, context: RuleContext?, confidence: Double, allowValues: Set<String>, allowPatterns: [PCRE2Pattern], redaction: RedactionStyle, examples: RuleExamples, file: String
    ) {
        self.id = id
        self.description = description
        self.category = category
        self.type = type
        self.pattern = pattern
        self.group = group
        self.keywords = keywords
        self.anchor = anchor
        self.keywordWindow = keywordWindow
        self.keywordWindowBefore = keywordWindowBefore
        self.requiredBytes = requiredBytes
        self.digitShape = digitShape
        self.startRun = startRun
        self.anchoredPattern = anchoredPattern
        self.minimumStartRun = minimumStartRun
        self.validator = validator
        self.context = context
        self.confidence = confidence
        self.allowValues = allowValues
        self.allowPatterns = allowPatterns
        self.redaction = redaction
        self.examples = examples
        self.file = file
    }

    /// The label used in placeholders: the type upper-cased, e.g. `EMAIL`, `CREDIT_CARD`.
    public var placeholderLabel: String { self.type.uppercased() }
}
