/// The instant by which inspection of one request must finish. Checked between texts and between rules; a PCRE2
/// call itself is bounded by `MatchLimits`, so the overshoot past the deadline is at most one bounded match.
public struct InspectionDeadline: Sendable, Hashable {
    let instant: ContinuousClock.Instant?

    /// A deadline `milliseconds` from now.
    public static func after(milliseconds: Int) -> InspectionDeadline {
        InspectionDeadline(instant: ContinuousClock.now.advanced(by: .milliseconds(milliseconds)))
    }

    /// A deadline at a given instant.
    public static func at(_ instant: ContinuousClock.Instant) -> InspectionDeadline { InspectionDeadline(instant: instant) }

    /// No deadline (tools and tests).
    public static let none = InspectionDeadline(instant: nil)

    public var hasPassed: Bool {
        guard let instant else { return false }
        return ContinuousClock.now >= instant
    }

    func check() throws(InspectionError) {
        if self.hasPassed { throw .deadlineExceeded }
    }
}
