/// The instant by which inspection of one request must finish. Checked between texts and between rules; a PCRE2
/// call itself is bounded by `MatchLimits`, so the overshoot past the deadline is at most one bounded match.
public struct InspectionDeadline: Sendable, Hashable {
    let instant: ContinuousClock.Instant?
    /// The deadline once the body turns out to carry a document (reading a PDF takes longer than a chat message);
    /// nil: the same as `instant`.
    let documentInstant: ContinuousClock.Instant?

    init(instant: ContinuousClock.Instant?, documentInstant: ContinuousClock.Instant? = nil) {
        self.instant = instant
        self.documentInstant = documentInstant
    }

    /// A deadline `milliseconds` from now; `documents` milliseconds from now once a document is found in the body.
    public static func after(milliseconds: Int, documents: Int? = nil) -> InspectionDeadline {
        let now = ContinuousClock.now
        return InspectionDeadline(instant: now.advanced(by: .milliseconds(milliseconds)),
                                  documentInstant: documents.map { now.advanced(by: .milliseconds(max($0, milliseconds))) })
    }

    /// A deadline at a given instant.
    public static func at(_ instant: ContinuousClock.Instant) -> InspectionDeadline { InspectionDeadline(instant: instant) }

    /// No deadline (tools and tests).
    public static let none = InspectionDeadline(instant: nil)

    /// The deadline that holds once the body is known to carry a document.
    var forDocuments: InspectionDeadline { InspectionDeadline(instant: self.documentInstant ?? self.instant) }

    public var hasPassed: Bool {
        guard let instant else { return false }
        return ContinuousClock.now >= instant
    }

    func check() throws(InspectionError) {
        if self.hasPassed { throw .deadlineExceeded }
    }
}
