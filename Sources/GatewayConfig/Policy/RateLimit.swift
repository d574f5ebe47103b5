/// A token bucket per gateway key (`roles.NAME.rate_limit`).
public struct RateLimit: Sendable, Hashable {
    /// `requests_per_minute`, required: the refill rate.
    public let requestsPerMinute: Int
    /// `burst`, default `requests_per_minute`: the bucket size, i.e. how many requests may arrive at once.
    public let burst: Int

    public init(requestsPerMinute: Int, burst: Int? = nil) {
        self.requestsPerMinute = requestsPerMinute
        self.burst = burst ?? requestsPerMinute
    }
}
