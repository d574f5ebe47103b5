import Foundation
import GatewayCrypto
import Synchronization

/// Why a presented key was refused. Each case has a message that tells the caller what to do.
public enum KeyRefusal: Error, Sendable, Hashable {
    case missing, malformed, unknown, expired, revoked

    public var message: String {
        switch self {
        case .missing:
            "No gateway key. Send your gateway key (gwk_…) as 'Authorization: Bearer <key>' or 'x-api-key: <key>'; "
                + "ask your gateway administrator for one (gatewayctl keys create)."
        case .malformed: "The gateway key is malformed (expected gwk_ followed by 48 characters). Check for a copy error."
        case .unknown: "The gateway key is not known to this gateway. Ask your gateway administrator for a valid key."
        case .expired: "The gateway key has expired. Ask your gateway administrator for a new key (gatewayctl keys rotate)."
        case .revoked: "The gateway key has been revoked. Ask your gateway administrator for a new key."
        }
    }
}

/// The keys a running gateway accepts, reloaded from the keys file when it changes.
///
/// Lookups go by the key's public id; the presented key's digest is compared with the stored one in constant time.
/// `reloadIfChanged()` is cheap (a `stat`), so the gateway calls it several times a second: a key created or
/// revoked with `gatewayctl keys` takes effect within a second, with no restart and no dropped connection.
public final class KeyStore: Sendable {
    public let path: String
    private struct Snapshot {
        var records: [String: KeyRecord] = [:]
        var fileStamp: FileStamp?
    }
    private struct FileStamp: Equatable {
        let modified: Date
        let size: Int
        let inode: Int
    }
    private let snapshot = Mutex(Snapshot())

    /// Loads `path` now. A missing file means no keys yet.
    public init(path: String) throws {
        self.path = path
        try self.reload()
    }

    /// Re-reads the file when its modification time, size or inode changed. A file that cannot be parsed keeps the
    /// previous keys in force and throws, so the caller can log it.
    @discardableResult
    public func reloadIfChanged() throws -> Bool {
        let stamp = Self.stamp(of: self.path)
        guard stamp != self.snapshot.withLock({ $0.fileStamp }) else { return false }
        try self.reload()
        return true
    }

    private func reload() throws {
        let stamp = Self.stamp(of: self.path)
        let file = try KeyFile.load(path: self.path)
        let records = Dictionary(file.keys.map { ($0.id, $0) }, uniquingKeysWith: { _, last in last })
        self.snapshot.withLock { $0 = Snapshot(records: records, fileStamp: stamp) }
    }

    /// The record a presented key authenticates, or why it does not.
    public func authenticate(_ presented: String?, now: Date = Date()) -> Result<KeyRecord, KeyRefusal> {
        var verified: VerifiedKey? = nil
        return self.authenticate(presented, now: now, remembering: &verified)
    }

    /// As `authenticate(_:now:)`, remembering the key it accepted in `verified`: when the same key is presented
    /// again (the next request on a keep-alive connection), checksum and SHA-256 are skipped. The record is still
    /// looked up in the current keys and its status checked every time, and a record whose digest changed since
    /// (the file replaced the key) is verified in full, so revocation, expiry and removal apply at once.
    public func authenticate(
        _ presented: String?, now: Date = Date(), remembering verified: inout VerifiedKey?
    ) -> Result<KeyRecord, KeyRefusal> {
        guard let presented, !presented.isEmpty else { return .failure(.missing) }
        let record: KeyRecord
        if let known = verified, let stored = self.snapshot.withLock({ $0.records[known.id] }), stored.digest == known.digest,
            known.matches(presented)
        {
            record = stored
        } else {
            verified = nil
            let key: GatewayKey
            do { key = try GatewayKey(parsing: presented) } catch { return .failure(.malformed) }
            guard let stored = self.snapshot.withLock({ $0.records[key.id] }) else { return .failure(.unknown) }
            guard Crypto.constantTimeEquals(Array(key.digest.utf8), Array(stored.digest.utf8)) else {
                return .failure(.unknown)
            }
            record = stored
            verified = VerifiedKey(text: Array(presented.utf8), id: stored.id, digest: stored.digest)
        }
        switch record.status(at: now) {
        case .active: return .success(record)
        case .expired: return .failure(.expired)
        case .revoked: return .failure(.revoked)
        }
    }

    public var count: Int { self.snapshot.withLock { $0.records.count } }

    private static func stamp(of path: String) -> FileStamp? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else { return nil }
        return FileStamp(
            modified: attributes[.modificationDate] as? Date ?? .distantPast,
            size: (attributes[.size] as? NSNumber)?.intValue ?? 0,
            inode: (attributes[.systemFileNumber] as? NSNumber)?.intValue ?? 0
        )
    }
}

/// A gateway key that `KeyStore.authenticate(_:now:remembering:)` accepted, kept by one connection so that its next
/// requests skip re-verifying the same key. It holds the key's text: it never leaves the connection's memory, and
/// printing or dumping it shows only the key id.
public struct VerifiedKey: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    private let text: [UInt8]
    fileprivate let id: String
    fileprivate let digest: String

    fileprivate init(text: [UInt8], id: String, digest: String) {
        self.text = text
        self.id = id
        self.digest = digest
    }

    /// Whether `presented` is this key, compared in constant time.
    fileprivate func matches(_ presented: String) -> Bool {
        Crypto.constantTimeEquals(Array(presented.utf8), self.text)
    }

    public var description: String { "VerifiedKey(id: \(self.id))" }
    public var debugDescription: String { self.description }
    public var customMirror: Mirror { Mirror(self, children: ["id": self.id]) }
}
