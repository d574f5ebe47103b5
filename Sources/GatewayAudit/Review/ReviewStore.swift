import Foundation

/// Where the people-in-the-loop state lives: held and sampled bodies, the review queue, releases and denials, and
/// reviewers' verdicts. `LocalReviewStore` keeps it beside the decision records (the embedded default); a shared
/// store (PostgreSQL) lets several gateway replicas serve one queue.
///
/// Contract: `keep` returns only once the body is durable; an action (`release`, `deny`, `label`) is recorded,
/// chained, before it takes effect; `queue` and `verdicts` read what every replica has written.
public protocol ReviewStore: Sendable {
    /// Keeps `body` encrypted under `recordID` (a held request, or a sampled forwarded body).
    @discardableResult
    func keep(body: [UInt8], recordID: RecordID, sender: Sender, purpose: QuarantinePurpose, reasons: [String]?) throws(QuarantineError)
        -> QuarantineEntry
    /// Requests held for review that no reviewer has released or denied yet, oldest first.
    func queue(now: Date) throws -> [QueuedReview]
    /// Every verdict recorded, oldest first.
    func verdicts() -> [ReviewEvent]
    /// Deletes held and sampled bodies past their retention; returns how many.
    @discardableResult
    func purgeExpired(now: Date) -> Int
    /// Records a reviewer's verdict on `record`, with the rules that fired on it, its decision and time.
    func label(_ record: DecisionRecord, verdict: ReviewEvent.Verdict, reviewer: String, note: String?) async throws
}

/// One request waiting for a reviewer.
public struct QueuedReview: Sendable, Hashable, Codable {
    public var recordID: RecordID
    /// When it was held.
    public var held: String
    public var ageSeconds: Double
    public var sender: Sender
    /// Why it was held (`category:pci`, `confidence<0.7`, …).
    public var reasons: [String]
    public var bytes: Int
}

/// The queue at a glance (`gateway_review_queue_*` metrics, reports).
public struct QueueSnapshot: Sendable, Hashable, Codable {
    public var size: Int
    public var oldestAgeSeconds: Double
    /// Items older than the policy's `review.max_age_hours`.
    public var overdue: Int

    public init(_ queue: [QueuedReview], maxAgeSeconds: Int) {
        self.size = queue.count
        self.oldestAgeSeconds = queue.map(\.ageSeconds).max() ?? 0
        self.overdue = queue.filter { $0.ageSeconds > Double(maxAgeSeconds) }.count
    }
}

/// The embedded default: the quarantine directory, the release ledger and the review log under `audit.directory`.
public struct LocalReviewStore: ReviewStore {
    public let location: AuditLocation
    /// Held and blocked bodies (the queue is read from here).
    public let quarantine: Quarantine
    /// Sampled bodies, in a directory of their own (`AuditLocation.samplesDirectory`), same key.
    public let samples: Quarantine
    public let ledger: ReleaseLedger

    public init(location: AuditLocation, quarantine: Quarantine) throws(QuarantineError) {
        self.location = location
        self.quarantine = quarantine
        self.samples = try Quarantine(directory: location.samplesDirectory, keyFile: location.quarantineKeyFile)
        self.ledger = ReleaseLedger(location: location)
    }

    public init(location: AuditLocation) throws(QuarantineError) {
        try self.init(location: location, quarantine: try Quarantine(location: location))
    }

    @discardableResult
    public func keep(body: [UInt8], recordID: RecordID, sender: Sender, purpose: QuarantinePurpose, reasons: [String]?)
        throws(QuarantineError) -> QuarantineEntry
    {
        let place = purpose == .sample ? self.samples : self.quarantine
        return try place.store(body: body, recordID: recordID, sender: sender, purpose: purpose, reasons: reasons)
    }

    @discardableResult
    public func purgeExpired(now: Date = Date()) -> Int {
        self.quarantine.purge(now: now).count + self.samples.purge(now: now).count
    }

    public func queue(now: Date = Date()) throws -> [QueuedReview] {
        let held = self.quarantine.entries().filter { $0.kept == .review }
        guard !held.isEmpty else { return [] }
        let decided = try self.ledger.decidedRecords()
        return held.filter { !decided.contains($0.recordID) }.map { entry in
            QueuedReview(
                recordID: entry.recordID, held: entry.stored,
                ageSeconds: max(0, now.timeIntervalSince(UTCTime.parse(entry.stored) ?? now)), sender: entry.sender,
                reasons: entry.reasons ?? [], bytes: entry.size)
        }
    }

    public func verdicts() -> [ReviewEvent] {
        AuditReader.entries(directory: self.location.reviewDirectory).compactMap { entry in
            entry.review.flatMap { $0.action == .label ? $0 : nil }
        }
    }

    public func label(_ record: DecisionRecord, verdict: ReviewEvent.Verdict, reviewer: String, note: String?) async throws {
        var event = ReviewEvent(
            id: record.id, action: .label, reviewer: reviewer, reason: note, verdict: verdict,
            rules: Array(Set(record.findings.map(\.ruleID))))
        event.subjectDecision = record.decision
        event.subjectTime = record.time
        let log = try await AuditLog.open(self.location.reviewLog)
        do {
            try await log.append(event)
            try await log.close()
        } catch {
            try? await log.close()
            throw error
        }
    }
}
