import Synchronization

/// The request bodies held in memory for inspection, all connections together, against
/// `limits.max_buffered_body_bytes`. A body reserves its bytes as they arrive (heads that declare large bodies and
/// send none hold nothing); a reservation that would pass the budget is refused, and that request gets 503 with
/// `Retry-After` while the bodies already held finish undisturbed.
///
/// Bodies up to `smallBodyBytes` (ordinary chat requests) are counted but never refused: slow uploads that declare
/// large bodies must not starve normal traffic. Their memory is bounded anyway, by the connection cap times that size.
final class BodyBudget: Sendable {
    static let smallBodyBytes = 64 * 1024

    let limit: Int
    private let used = Atomic<Int>(0)

    init(limit: Int) { self.limit = limit }

    /// Reserves `bytes` for a body that will then hold `total` bytes; false (and nothing reserved) when that would
    /// pass the limit and the body is not a small one.
    func reserve(_ bytes: Int, bodyTotal total: Int) -> Bool {
        guard bytes > 0 else { return true }
        if total <= Self.smallBodyBytes {
            self.used.add(bytes, ordering: .relaxed)
            return true
        }
        var current = self.used.load(ordering: .relaxed)
        while true {
            guard current + bytes <= self.limit else { return false }
            let (exchanged, original) = self.used.compareExchange(
                expected: current, desired: current + bytes, ordering: .relaxed
            )
            if exchanged { return true }
            current = original
        }
    }

    func release(_ bytes: Int) {
        if bytes > 0 { self.used.subtract(bytes, ordering: .relaxed) }
    }
}
