import Foundation

/// Everything the audit library can fail with. Each case names the file involved and the `errno` when there is one.
public enum AuditError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A key file could not be read or created, or holds the wrong number of bytes.
    case keyFile(path: String, detail: String)
    /// A file operation failed; `operation` is e.g. `write`, `fsync`, `open`, `rename`.
    case io(operation: String, path: String, errno: Int32)
    /// The log is not writable now (an earlier write or fsync failed); the gateway answers 503 until it recovers.
    case unavailable
    /// Another process holds the log directory's writer lock.
    case locked(path: String)
    /// The log was closed.
    case closed
    /// A record could not be serialised (should not happen for the record types of this module).
    case encoding(String)

    public var description: String {
        switch self {
        case .keyFile(let path, let detail): return "key file \(path): \(detail)"
        case .io(let operation, let path, let code): return "\(operation) \(path): \(String(cString: strerror(code)))"
        case .unavailable: return "audit log unavailable (write failure; retrying)"
        case .locked(let path): return "audit log \(path) is locked by another writer"
        case .closed: return "audit log closed"
        case .encoding(let detail): return "cannot encode audit entry: \(detail)"
        }
    }
}
