import Glibc

/// The threads that inspect large bodies run below the event loops' priority, so that a queue of hostile uploads
/// delays other uploads, not every caller's small requests.
enum InspectionThreads {
    /// The nice value of an inspection thread (the event loops keep 0).
    static let niceness: Int32 = 10

    /// Lowers the calling thread's scheduling priority to `niceness`. On Linux the nice value belongs to a thread
    /// and `who` 0 names the calling one. Idempotent; it never raises a priority, which would need privileges.
    static func yieldToEventLoops() {
        let thread: id_t = 0
        errno = 0
        let current = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), thread)
        guard errno == 0, current < Self.niceness else { return }
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), thread, Self.niceness)
    }
}
