/// One accepted match of one rule in a scanned (normalised) text.
public struct ScanHit: Sendable, Hashable {
    /// Index into `RuleSet.rules`.
    public let ruleIndex: Int
    /// The reported value's byte range in the scanned text.
    public let range: Range<Int>
    /// Confidence after context adjustments.
    public let confidence: Double
}
