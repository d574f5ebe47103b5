import Foundation
import GatewayCrypto

/// Who sent a body: what a release token is bound to besides the body itself.
public struct Sender: Sendable, Hashable, Codable {
    public var user: String
    public var keyID: String?

    public init(user: String, keyID: String?) {
        self.user = SafeLabel.clean(user)
        self.keyID = SafeLabel.clean(keyID, limit: 64)
    }

    public init(_ identity: Identity) { self.init(user: identity.user, keyID: identity.keyID) }
}

/// What the quarantine knows about a stored body without decrypting it.
public struct QuarantineEntry: Sendable, Hashable, Codable {
    public var recordID: RecordID
    public var stored: String
    public var expires: String
    /// SHA-256 (hex) of the plaintext body: what a release token is bound to.
    public var bodySHA256: String
    public var size: Int
    public var sender: Sender
    /// Why it is kept: a block, a request held for review, or a forwarded body sampled for review. Absent in entries
    /// written before it existed (blocks).
    public var purpose: QuarantinePurpose?
    /// For `review`: why it was held (the record's `escalation`).
    public var reasons: [String]?

    public var kept: QuarantinePurpose { self.purpose ?? .block }
}

/// Why a body is in the quarantine.
public enum QuarantinePurpose: String, Sendable, Hashable, Codable {
    /// Blocked by policy; a reviewer may release it.
    case block
    /// Held for a person (`review.escalate`); queued until released or denied.
    case review
    /// Forwarded, and its forwarded (redacted) body sampled for review after the fact (`review.sampling`).
    case sample
}

public enum QuarantineError: Error, Sendable, Hashable, CustomStringConvertible {
    case notFound(RecordID)
    /// The stored body does not decrypt under this key (wrong key, or the file was altered).
    case undecryptable(RecordID)
    case storage(AuditError)

    public var description: String {
        switch self {
        case .notFound(let id): return "no quarantined body for record \(id)"
        case .undecryptable(let id): return "quarantined body \(id) does not decrypt with this key (wrong key or altered)"
        case .storage(let error): return error.description
        }
    }
}

/// Blocked bodies kept encrypted (AES-256-GCM through OpenSSL, key from its own 0600 file) under their record id.
///
/// Files: `<id>.body` = nonce ‖ ciphertext ‖ tag, with the record id as associated data (a body moved to another
/// id does not decrypt); `<id>.json` = `QuarantineEntry`. Both 0600, written atomically and fsynced, so `store`
/// returning means the body survives a crash. Bodies expire after `retention` and `purge` deletes them.
public struct Quarantine: Sendable {
    public static let defaultRetention: TimeInterval = 30 * 86_400
    public let directory: String
    public let retention: TimeInterval
    private let key: KeyFile

    /// Opens the quarantine in `directory` (created 0700), loading or creating the key at `keyFile`.
    public init(directory: String, keyFile: String, retention: TimeInterval = Quarantine.defaultRetention) throws(QuarantineError) {
        guard !AuditLocation.isInside(keyFile, directory) else {
            throw .storage(.keyFile(path: keyFile, detail: "must be outside the quarantine directory"))
        }
        do {
            try FileOps.makeDirectory(directory)
            chmod(directory, 0o700)
            self.key = try KeyFile.loadOrCreate(path: keyFile)
        } catch { throw .storage(error) }
        self.directory = directory
        self.retention = retention
    }

    /// Opens the quarantine of `location`.
    public init(location: AuditLocation, retention: TimeInterval = Quarantine.defaultRetention) throws(QuarantineError) {
        try self.init(directory: location.quarantineDirectory, keyFile: location.quarantineKeyFile, retention: retention)
    }

    /// Encrypts and stores `body` under `recordID`; returns only once it is durable. Blocking file I/O.
    @discardableResult
    public func store(
        body: [UInt8], recordID: RecordID, sender: Sender, purpose: QuarantinePurpose = .block, reasons: [String]? = nil,
        now: Date = Date()
    ) throws(QuarantineError) -> QuarantineEntry {
        let entry = QuarantineEntry(
            recordID: recordID, stored: UTCTime.format(now), expires: UTCTime.format(now.addingTimeInterval(self.retention)),
            bodySHA256: Crypto.hex(Crypto.sha256(body)), size: body.count, sender: sender,
            purpose: purpose == .block ? nil : purpose, reasons: reasons
        )
        do {
            let sealed = try AESGCM.seal(body, key: self.key.bytes, authenticating: self.aad(recordID))
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let metadata = try encoder.encode(entry)
            try FileOps.writeAtomically(sealed, to: self.path(recordID, "body"), mode: 0o600)
            try FileOps.writeAtomically(Array(metadata), to: self.path(recordID, "json"), mode: 0o600)
        } catch let error as AuditError {
            throw .storage(error)
        } catch {
            throw .storage(.encoding("\(error)"))
        }
        return entry
    }

    /// The entry for `recordID`, without decrypting.
    public func entry(_ recordID: RecordID) throws(QuarantineError) -> QuarantineEntry {
        guard let data = FileOps.read(self.path(recordID, "json")),
            let entry = try? JSONDecoder().decode(QuarantineEntry.self, from: Data(data))
        else { throw .notFound(recordID) }
        return entry
    }

    /// Every stored entry, oldest first.
    public func entries() -> [QuarantineEntry] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: self.directory)) ?? []
        return names.filter { $0.hasSuffix(".json") && $0 != "releases.json" }
            .compactMap { RecordID(String($0.dropLast(5))) }
            .compactMap { try? self.entry($0) }
            .sorted { $0.recordID < $1.recordID }
    }

    /// Decrypts the body. Callers record the reveal first (`ReviewDesk.reveal` does).
    public func open(_ recordID: RecordID) throws(QuarantineError) -> [UInt8] {
        guard let sealed = FileOps.read(self.path(recordID, "body")) else { throw .notFound(recordID) }
        do { return try AESGCM.open(sealed, key: self.key.bytes, authenticating: self.aad(recordID)) } catch {
            throw .undecryptable(recordID)
        }
    }

    /// Deletes one body and its entry.
    public func delete(_ recordID: RecordID) {
        unlink(self.path(recordID, "body"))
        unlink(self.path(recordID, "json"))
    }

    /// Deletes every body whose retention ended before `now`; returns their ids.
    @discardableResult
    public func purge(now: Date = Date()) -> [RecordID] {
        let expired = self.entries().filter { entry in UTCTime.parse(entry.expires).map { $0 < now } ?? true }
        for entry in expired { self.delete(entry.recordID) }
        return expired.map(\.recordID)
    }

    private func path(_ id: RecordID, _ suffix: String) -> String { self.directory + "/" + id.rawValue + "." + suffix }
    private func aad(_ id: RecordID) -> [UInt8] { Array("gateway-quarantine:\(id.rawValue)".utf8) }
}
