import Foundation

/// The reviewer's actions, each recorded in the review log **before** it takes effect (a reveal that cannot be
/// recorded does not happen). Used by `gatewayctl log show --reveal` and `gatewayctl review`.
public struct ReviewDesk: Sendable {
    public let quarantine: Quarantine
    /// Sampled bodies (`review.sampling`): they can be revealed and labelled, not released.
    public let samples: Quarantine?
    public let ledger: ReleaseLedger

    public init(quarantine: Quarantine, ledger: ReleaseLedger, samples: Quarantine? = nil) {
        self.quarantine = quarantine
        self.ledger = ledger
        self.samples = samples
    }

    /// Records the reveal (naming `reviewer`) durably in `log`, then decrypts and returns the body (held, blocked or
    /// sampled).
    public func reveal(_ recordID: RecordID, reviewer: String, reason: String? = nil, log: AuditLog) async throws -> [UInt8] {
        let place = (try? self.quarantine.entry(recordID)) == nil ? (self.samples ?? self.quarantine) : self.quarantine
        _ = try place.entry(recordID)
        try await log.append(ReviewEvent(id: recordID, action: .reveal, reviewer: reviewer, reason: reason))
        return try place.open(recordID)
    }

    /// Issues a release token for the quarantined body of `recordID` and records it (token id and expiry only).
    public func release(
        _ recordID: RecordID, reviewer: String, reason: String, lifetime: TimeInterval = ReleaseLedger.defaultLifetime,
        fourEyes: Bool = false, log: AuditLog, now: Date = Date()
    ) async throws -> (token: String, grant: ReleaseGrant) {
        // A sampled body was forwarded already: say so, rather than that nothing is quarantined.
        if (try? self.samples?.entry(recordID)) != nil { throw ReleaseError.sampled(recordID) }
        let entry = try self.quarantine.entry(recordID)
        let issued = try self.ledger.issue(for: entry, reviewer: reviewer, reason: reason, lifetime: lifetime, fourEyes: fourEyes, now: now)
        do {
            try await log.append(
                ReviewEvent(
                    id: recordID, action: .release, reviewer: reviewer, reason: reason, tokenID: issued.grant.tokenID,
                    expires: issued.grant.expires
                )
            )
        } catch {
            try? self.ledger.revoke(tokenID: issued.grant.tokenID)
            throw error
        }
        return issued
    }

    /// Denies `recordID` (revoking its tokens) and records it.
    public func deny(_ recordID: RecordID, reviewer: String, reason: String?, log: AuditLog) async throws {
        try self.ledger.deny(recordID, reviewer: reviewer)
        try await log.append(ReviewEvent(id: recordID, action: .deny, reviewer: reviewer, reason: reason))
    }
}
