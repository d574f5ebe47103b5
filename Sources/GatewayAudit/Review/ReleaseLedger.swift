import Foundation
import GatewayCrypto

/// The shared store of release tokens: `gatewayctl review` issues and denies, the gateway redeems.
///
/// One JSON file; every change runs under an exclusive `flock` on `<file>.lock` and replaces the file atomically
/// (temporary file, fsync, rename), so the gateway and `gatewayctl` can use it at the same time and a token is
/// consumed at most once. All methods do blocking file I/O: call them off an event loop.
///
/// A token is `gwr_<16 hex id>_<64 hex secret>`; the ledger keeps only its SHA-256.
public struct ReleaseLedger: Sendable {
    public static let tokenPrefix = "gwr_"
    public static let defaultLifetime: TimeInterval = 3_600
    public let path: String

    public init(path: String) { self.path = path }

    public init(location: AuditLocation) { self.init(path: location.ledgerFile) }

    /// Issues a one-time token releasing the quarantined body `entry` to its sender, valid for `lifetime`. With
    /// `fourEyes`, the reviewer must not be the sender. Refused for a denied record.
    public func issue(
        for entry: QuarantineEntry, reviewer: String, reason: String, lifetime: TimeInterval = ReleaseLedger.defaultLifetime,
        fourEyes: Bool = false, now: Date = Date()
    ) throws(ReleaseError) -> (token: String, grant: ReleaseGrant) {
        if fourEyes, SafeLabel.clean(reviewer, limit: SafeLabel.maxLength) == entry.sender.user { throw .fourEyes }
        let tokenID = Crypto.hex(Crypto.randomBytes(count: 8))
        let token = Self.tokenPrefix + tokenID + "_" + Crypto.hex(Crypto.randomBytes(count: 32))
        let grant = ReleaseGrant(
            tokenID: tokenID, tokenDigest: Crypto.hex(Crypto.sha256(Array(token.utf8))), recordID: entry.recordID,
            bodySHA256: entry.bodySHA256, sender: entry.sender, reviewer: SafeLabel.clean(reviewer),
            reason: SafeLabel.clean(reason, limit: SafeLabel.maxLength) as String, issued: UTCTime.format(now), expires: UTCTime.format(now.addingTimeInterval(lifetime)),
            state: .issued, consumed: nil
        )
        try self.update { (file: inout LedgerFile) throws(ReleaseError) in
            if file.denied[entry.recordID.rawValue] != nil { throw .denied(entry.recordID) }
            file.grants.append(grant)
        }
        return (token, grant)
    }

    /// Marks `recordID` denied and revokes its outstanding tokens.
    public func deny(_ recordID: RecordID, reviewer: String) throws(ReleaseError) {
        try self.update { (file: inout LedgerFile) throws(ReleaseError) in
            file.denied[recordID.rawValue] = SafeLabel.clean(reviewer, limit: SafeLabel.maxLength) as String
            for index in file.grants.indices where file.grants[index].recordID == recordID && file.grants[index].state == .issued {
                file.grants[index].state = .revoked
            }
        }
    }

    /// Revokes one token (used when its issue could not be recorded).
    public func revoke(tokenID: String) throws(ReleaseError) {
        try self.update { (file: inout LedgerFile) throws(ReleaseError) in
            for index in file.grants.indices where file.grants[index].tokenID == tokenID && file.grants[index].state == .issued {
                file.grants[index].state = .revoked
            }
        }
    }

    /// The gateway's check: `token` (the `x-gateway-release` header) must be issued, unexpired, unused, for exactly
    /// this `body` and `sender`. On success the token is consumed (durably) and its grant returned; every failure
    /// leaves the ledger unchanged, so a wrong body does not burn the token.
    public func redeem(token: String, body: [UInt8], sender: Sender, now: Date = Date()) throws(ReleaseError) -> ReleaseGrant {
        let parts = token.split(separator: "_")
        guard token.hasPrefix(Self.tokenPrefix), parts.count == 3, parts[1].count == 16, parts[2].count == 64 else {
            throw .malformedToken
        }
        let tokenID = String(parts[1])
        let digest = Crypto.sha256(Array(token.utf8))
        let bodyHash = Crypto.hex(Crypto.sha256(body))
        var redeemed: ReleaseGrant?
        try self.update { (file: inout LedgerFile) throws(ReleaseError) in
            guard let index = file.grants.firstIndex(where: { $0.tokenID == tokenID }),
                let stored = KeyFile.hexBytes(file.grants[index].tokenDigest),
                Crypto.constantTimeEquals(stored, digest)
            else { throw .unknownToken }
            var grant = file.grants[index]
            guard grant.state == .issued else { throw .alreadyUsed }
            if file.denied[grant.recordID.rawValue] != nil { throw .denied(grant.recordID) }
            guard let expires = UTCTime.parse(grant.expires), now < expires else { throw .expired }
            guard Crypto.constantTimeEquals(Array(grant.bodySHA256.utf8), Array(bodyHash.utf8)) else { throw .bodyMismatch }
            guard grant.sender == sender else { throw .senderMismatch }
            grant.state = .consumed
            grant.consumed = UTCTime.format(now)
            file.grants[index] = grant
            redeemed = grant
        }
        guard let redeemed else { throw .unknownToken }
        return redeemed
    }

    /// Every grant, oldest first.
    public func grants() throws(ReleaseError) -> [ReleaseGrant] { try self.load().grants }

    /// The records a reviewer has decided on: released (a token issued, in any state) or denied.
    public func decidedRecords() throws(ReleaseError) -> Set<RecordID> {
        let file = try self.load()
        return Set(file.grants.map(\.recordID)).union(file.denied.keys.compactMap { RecordID($0) })
    }

    /// Whether a reviewer denied `recordID`.
    public func isDenied(_ recordID: RecordID) throws(ReleaseError) -> Bool { try self.load().denied[recordID.rawValue] != nil }

    private func load() throws(ReleaseError) -> LedgerFile {
        guard let bytes = FileOps.read(self.path) else { return LedgerFile() }
        do { return try JSONDecoder().decode(LedgerFile.self, from: Data(bytes)) } catch {
            throw .storage(.encoding("ledger \(self.path) is not valid: \(error)"))
        }
    }

    /// Read-modify-write under the ledger lock; nothing is written when `change` throws.
    private func update(_ change: (inout LedgerFile) throws(ReleaseError) -> Void) throws(ReleaseError) {
        let directory = (self.path as NSString).deletingLastPathComponent
        do { try FileOps.makeDirectory(directory.isEmpty ? "." : directory) } catch { throw .storage(error) }
        let lockPath = self.path + ".lock"
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .storage(.io(operation: "open", path: lockPath, errno: errno)) }
        defer { close(fd) }
        guard flock(fd, LOCK_EX) == 0 else { throw .storage(.io(operation: "flock", path: lockPath, errno: errno)) }
        defer { flock(fd, LOCK_UN) }
        var file = try self.load()
        try change(&file)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        do {
            try FileOps.writeAtomically(Array(try encoder.encode(file)), to: self.path, mode: 0o600)
        } catch let error as AuditError {
            throw .storage(error)
        } catch {
            throw .storage(.encoding("\(error)"))
        }
    }
}
