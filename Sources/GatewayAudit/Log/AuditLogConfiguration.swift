/// How an `AuditLog` writes.
public struct AuditLogConfiguration: Sendable {
    /// The directory of segments (created 0750 if absent).
    public var directory: String
    /// The audit key file; must lie outside `directory`. Created 0600 when absent.
    public var keyFile: String
    /// A segment is closed with a checkpoint and a new one started past this size…
    public var maxSegmentBytes: Int
    /// …or this age (measured from when this process opened it).
    public var maxSegmentAge: Duration
    /// While unhealthy, how often the log tries to recover by itself.
    public var recoveryInterval: Duration
    /// The longest an outcome (`AuditLog.appendOutcome`) waits for a batch to ride along with before it is written
    /// by itself: what a crash can lose of outcomes.
    public var deferredWriteDelay: Duration = .milliseconds(10)
    /// When lines are fsynced. Nil (`audit.sync: always`, the default): an append completes only once its batch is
    /// written and fsynced. A window (`audit.sync: interval`): an append completes once its batch is written (in
    /// the kernel's page cache), and the log fsyncs within this window. A record then survives the gateway crashing,
    /// not the machine losing power within the window.
    public var syncInterval: Duration?
    /// Test and drill hook: makes file operations fail on demand. Nil in production.
    public var faults: FaultInjector?
    /// Told on the log's I/O queue after every durable batch: its lines and how long writing and syncing it took.
    /// The gateway exports these as metrics (group-commit size, disk latency); keep it quick.
    public var batchWritten: (@Sendable (_ lines: Int, _ duration: Duration) -> Void)?

    public init(
        directory: String, keyFile: String, maxSegmentBytes: Int = 64 << 20, maxSegmentAge: Duration = .seconds(86_400),
        recoveryInterval: Duration = .seconds(1), faults: FaultInjector? = nil
    ) {
        self.directory = directory
        self.keyFile = keyFile
        self.maxSegmentBytes = maxSegmentBytes
        self.maxSegmentAge = maxSegmentAge
        self.recoveryInterval = recoveryInterval
        self.faults = faults
    }

    /// The configuration for the decision log of `location`.
    public init(location: AuditLocation) {
        self.init(directory: location.directory, keyFile: location.keyFile)
    }
}

extension Duration {
    /// The duration in whole nanoseconds, for dispatch deadlines and sleeps.
    var wholeNanoseconds: Int {
        let (seconds, attoseconds) = self.components
        return Int(seconds) * 1_000_000_000 + Int(attoseconds / 1_000_000_000)
    }
}
