import Foundation

/// Reads entries back for display (`gatewayctl log`): every line of every segment, in order, decoded. Lines that do
/// not decode are skipped; integrity is `AuditVerifier`'s job.
public enum AuditReader {
    /// All entries of the log in `directory`, oldest first.
    public static func entries(directory: String) -> [LogEntry] {
        SegmentNames.list(in: directory).flatMap { index in
            self.entries(file: directory + "/" + SegmentNames.name(index))
        }
    }

    /// The entries of one segment file.
    public static func entries(file: String) -> [LogEntry] {
        let bytes = FileOps.read(file) ?? []
        return SegmentNames.lines(bytes).lines.compactMap { try? ParsedLine.parse($0).entry }
    }

    /// The entries of the complete lines of `file` from byte `offset` on, and the offset just past the last complete
    /// line (where the next read starts). For readers that follow a growing segment (report summaries).
    public static func entries(file: String, from offset: Int) -> (entries: [LogEntry], end: Int) {
        guard let handle = FileHandle(forReadingAtPath: file) else { return ([], offset) }
        defer { try? handle.close() }
        do { try handle.seek(toOffset: UInt64(offset)) } catch { return ([], offset) }
        let bytes = Array(handle.readDataToEndOfFile())
        let (lines, _) = SegmentNames.lines(bytes)
        let end = lines.last.map { offset + $0.endIndex + 1 } ?? offset
        return (lines.compactMap { try? ParsedLine.parse($0).entry }, end)
    }

    /// Decision records joined with their outcome and review events (from the decision and review logs).
    public static func views(location: AuditLocation) -> [RecordView] {
        self.views(entries: self.entries(directory: location.directory) + self.entries(directory: location.reviewDirectory))
    }

    public static func views(entries: [LogEntry]) -> [RecordView] {
        var order: [RecordID] = []
        var views: [RecordID: RecordView] = [:]
        for entry in entries {
            if let record = entry.record {
                if views[record.id] == nil { order.append(record.id) }
                views[record.id, default: RecordView(record: record)].record = record
            } else if entry.kind == .outcome || entry.kind == .outcomes {
                for outcome in entry.allOutcomes { views[outcome.id]?.outcome = outcome }
            } else if let review = entry.review {
                views[review.id]?.reviews.append(review)
            }
        }
        return order.compactMap { views[$0] }
    }
}

/// A decision record with what followed it.
public struct RecordView: Sendable, Hashable, Codable {
    public var record: DecisionRecord
    public var outcome: RequestOutcome?
    public var reviews: [ReviewEvent] = []

    public init(record: DecisionRecord, outcome: RequestOutcome? = nil, reviews: [ReviewEvent] = []) {
        self.record = record
        self.outcome = outcome
        self.reviews = reviews
    }
}

/// The filters of `gatewayctl log`; nil or empty means "any".
public struct RecordFilter: Sendable, Hashable {
    public var decisions: Set<Decision> = []
    public var user: String?
    public var role: String?
    public var rule: String?
    public var category: String?
    public var since: Date?
    public var until: Date?

    public init(
        decisions: Set<Decision> = [], user: String? = nil, role: String? = nil, rule: String? = nil,
        category: String? = nil, since: Date? = nil, until: Date? = nil
    ) {
        self.decisions = decisions
        self.user = user
        self.role = role
        self.rule = rule
        self.category = category
        self.since = since
        self.until = until
    }

    public func matches(_ record: DecisionRecord) -> Bool {
        if !self.decisions.isEmpty, !self.decisions.contains(record.decision) { return false }
        if let user = self.user, record.identity?.user != user { return false }
        if let role = self.role, record.identity?.role != role { return false }
        if let rule = self.rule, !record.findings.contains(where: { $0.ruleID == rule }) { return false }
        if let category = self.category, !record.findings.contains(where: { $0.category == category }) { return false }
        if self.since != nil || self.until != nil {
            guard let time = UTCTime.parse(record.time) else { return false }
            if let since = self.since, time < since { return false }
            if let until = self.until, time > until { return false }
        }
        return true
    }
}
