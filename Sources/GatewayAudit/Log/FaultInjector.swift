import Synchronization

/// Makes chosen file operations of an `AuditLog` fail, to exercise the unhealthy → recovered path in tests and
/// drills (the production log has none). Thread-safe.
public final class FaultInjector: Sendable {
    /// The operations that can be made to fail.
    public enum Operation: String, Sendable, Hashable, CaseIterable { case write, fsync, open }

    private let failing = Mutex<[Operation: Int32]>([:])

    public init() {}

    /// From now on `operation` fails with `errno` (default `ENOSPC`) until `clear`.
    public func fail(_ operation: Operation, errno code: Int32 = 28) {
        self.failing.withLock { $0[operation] = code }
    }

    /// Stops injecting failures.
    public func clear() { self.failing.withLock { $0.removeAll() } }

    /// The errno to fail `operation` with, if any.
    func error(for operation: Operation) -> Int32? { self.failing.withLock { $0[operation] } }
}
