import Foundation

/// What the scanner decided about every candidate a rule's pattern matched: for `gatewayctl rules test --explain`.
/// Collected only when a scanner is given one (never on the gateway's path); single-threaded.
public final class ScanTrace: @unchecked Sendable {
    public enum Outcome: Sendable, Hashable {
        /// Reported, with its confidence; `raised`/`lowered` are the context words found around it.
        case accepted(confidence: Double, raised: [String], lowered: [String])
        /// The validator (`luhn`, `iban`, entropy, ...) refused the value.
        case validatorRejected(String)
        /// A documentation placeholder (`Validators.isPlaceholder`), for a secret rule.
        case placeholder
        /// An allow-list entry suppressed it: the value itself, or the pattern that matched.
        case allowedValue
        case allowedPattern(String)
        /// Its confidence after context fell below the minimum.
        case belowMinimum(confidence: Double, minimum: Double, raised: [String], lowered: [String])
    }

    public struct Event: Sendable, Hashable {
        /// Where the scanned text is in the body (a JSON path, `$` for a text body, a document's location).
        public let location: String
        public let rule: String
        /// Byte offsets of the value in the scanned text (normalised; for a value paired with its member name,
        /// in `name: value`), and the value masked.
        public let span: Range<Int>
        public let maskedValue: String
        public let outcome: Outcome
    }

    public private(set) var events: [Event] = []
    /// Where the text being scanned now is (set by the inspection before each text).
    var location = ""

    public init() {}

    /// Forgets what was collected (the body is read again another way).
    func reset() { self.events.removeAll() }

    func record(rule: Rule, span: Range<Int>, value: Substring, outcome: Outcome) {
        let masked = value.count <= 4 ? String(repeating: "*", count: value.count)
            : "\(value.prefix(2))…\(value.suffix(2)) (\(value.count) chars)"
        self.events.append(Event(location: self.location, rule: rule.id, span: span, maskedValue: masked, outcome: outcome))
    }

    /// The context words of `rule` present around a match (for the explanation only; the scan itself uses
    /// `TextScanner.contextWords`).
    static func contextWords(_ context: RuleContext, around: String) -> (raised: [String], lowered: [String]) {
        let text = around.lowercased()
        return (context.raise.filter { text.contains($0.lowercased()) }, context.lower.filter { text.contains($0.lowercased()) })
    }
}
