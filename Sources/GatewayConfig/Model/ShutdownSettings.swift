/// `shutdown:` — graceful shutdown on SIGTERM.
public struct ShutdownSettings: Sendable, Hashable {
    /// `shutdown.drain_seconds`, default `30`: how long in-flight requests and streams may finish after the
    /// listener stops accepting; what remains is then closed.
    public let drainSeconds: Int
    public static let defaultDrainSeconds = 30

    public init(drainSeconds: Int = Self.defaultDrainSeconds) { self.drainSeconds = drainSeconds }
}
