/// What one request's documents may still spend: decompressed bytes and kept text are shared by every document of
/// the request (a request carrying 100 small bombs is one bomb), and the deadline is the request's.
/// Not thread-safe: one budget belongs to one inspection.
public final class ExtractionBudget {
    public let limits: DocumentLimits
    /// The inspection deadline; replaced when the request's deadline moves (`RequestInspection.enterDocument`).
    public var deadline: ContinuousClock.Instant?
    public private(set) var decompressedBytes = 0
    public private(set) var textBytes = 0

    /// - Parameter deadline: the inspection deadline (checked between pages, members, parts and streams, and given
    ///   to OCR); nil: none.
    public init(limits: DocumentLimits, deadline: ContinuousClock.Instant? = nil) {
        self.limits = limits
        self.deadline = deadline
    }

    func checkDeadline() throws(DocumentError) {
        if let deadline, ContinuousClock.now >= deadline { throw .deadlineExceeded }
    }

    /// Milliseconds left before the deadline (a day when there is none).
    var millisecondsLeft: Int {
        guard let deadline else { return 86_400_000 }
        let left = ContinuousClock.now.duration(to: deadline)
        return max(0, Int(left.components.seconds) * 1000 + Int(left.components.attoseconds / 1_000_000_000_000_000))
    }

    func spendDecompressed(_ count: Int) throws(DocumentError) {
        self.decompressedBytes += count
        if self.decompressedBytes > self.limits.maximumDecompressedBytes {
            throw .limitExceeded(limit: "decompressed_bytes",
                                 detail: "more than \(self.limits.maximumDecompressedBytes) bytes decompressed")
        }
    }

    func spendText(_ count: Int) throws(DocumentError) {
        self.textBytes += count
        if self.textBytes > self.limits.maximumTextBytes {
            throw .limitExceeded(limit: "text_bytes", detail: "more than \(self.limits.maximumTextBytes) bytes of text")
        }
    }
}
