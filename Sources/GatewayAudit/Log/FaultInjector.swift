import Foundation
import Synchronization

/// Makes chosen file operations of an `AuditLog` fail or stall, to exercise the unhealthy → recovered path and slow
/// disks in tests and drills (the production log has none). Thread-safe.
public final class FaultInjector: Sendable {
    /// The operations that can be made to fail.
    public enum Operation: String, Sendable, Hashable, CaseIterable { case write, fsync, open }

    private let failing = Mutex<[Operation: Int32]>([:])
    private let stalls = Mutex<[Operation: Duration]>([:])

    public init() {}

    /// From now on `operation` fails with `errno` (default `ENOSPC`) until `clear`.
    public func fail(_ operation: Operation, errno code: Int32 = 28) {
        self.failing.withLock { $0[operation] = code }
    }

    /// From now on `operation` takes `duration` longer (a slow disk) until `clear`.
    public func stall(_ operation: Operation, by duration: Duration) {
        self.stalls.withLock { $0[operation] = duration }
    }

    /// Stops injecting failures and stalls.
    public func clear() {
        self.failing.withLock { $0.removeAll() }
        self.stalls.withLock { $0.removeAll() }
    }

    /// Sleeps for the stall set for `operation`, if any (on the log's I/O queue, which is what a slow disk blocks).
    func stallIfSet(_ operation: Operation) {
        guard let duration = self.stalls.withLock({ $0[operation] }) else { return }
        usleep(UInt32(duration.wholeNanoseconds / 1000))
    }

    /// The errno to fail `operation` with, if any.
    func error(for operation: Operation) -> Int32? { self.failing.withLock { $0[operation] } }
}
