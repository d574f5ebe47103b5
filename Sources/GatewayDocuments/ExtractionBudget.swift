/// What one request's documents may still spend: decompressed bytes and kept text are shared by every document of
/// the request (a request carrying 100 small bombs is one bomb), and the deadline is the request's.
/// Not thread-safe: one budget belongs to one inspection.
public final class ExtractionBudget {
    public let limits: DocumentLimits
    /// Replaced when the request's deadline moves (see `RequestInspection.enterDocument`).
    public var expired: () -> Bool
    public private(set) var decompressedBytes = 0
    public private(set) var textBytes = 0

    /// - Parameter expired: whether the inspection deadline has passed (checked between pages, members and parts).
    public init(limits: DocumentLimits, expired: @escaping () -> Bool = { false }) {
        self.limits = limits
        self.expired = expired
    }

    func checkDeadline() throws(DocumentError) {
        if self.expired() { throw .deadlineExceeded }
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
