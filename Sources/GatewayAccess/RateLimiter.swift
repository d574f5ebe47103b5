import Synchronization

/// Token buckets, one per caller: `burst` tokens at most, refilled at `requestsPerMinute / 60` per second. A request
/// takes one token; without one it is refused with the time until the next token.
public final class RateLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }
    private let buckets = Mutex<[String: Bucket]>([:])

    public init() {}

    /// Takes a token from `caller`'s bucket. Returns nil when allowed, or the seconds to wait.
    public func take(
        caller: String, requestsPerMinute: Int, burst: Int, now: ContinuousClock.Instant = .now
    ) -> Int? {
        let ratePerSecond = Double(requestsPerMinute) / 60
        return self.buckets.withLock { buckets in
            var bucket = buckets[caller] ?? Bucket(tokens: Double(burst), updated: now)
            let elapsed = now - bucket.updated
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            bucket.tokens = min(Double(burst), bucket.tokens + seconds * ratePerSecond)
            bucket.updated = now
            defer { buckets[caller] = bucket }
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
                return nil
            }
            return max(1, Int(((1 - bucket.tokens) / ratePerSecond).rounded(.up)))
        }
    }
}
