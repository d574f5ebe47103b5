import Synchronization

/// The request bodies held in memory for inspection, all connections together, against
/// `limits.max_buffered_body_bytes`. A body reserves its declared length before a byte of it is buffered (a
/// chunked one, each chunk as it arrives); a reservation that would pass the budget is refused, and the request
/// gets 503 with `Retry-After` while every body already held finishes undisturbed.
final class BodyBudget: Sendable {
    let limit: Int
    private let used = Atomic<Int>(0)

    init(limit: Int) { self.limit = limit }

    /// Bytes reserved now.
    var reserved: Int { self.used.load(ordering: .relaxed) }

    /// Reserves `bytes`; false (and nothing reserved) when that would pass the limit.
    func reserve(_ bytes: Int) -> Bool {
        guard bytes > 0 else { return true }
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
