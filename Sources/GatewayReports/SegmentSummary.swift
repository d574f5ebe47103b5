import Foundation
import GatewayAudit

/// The summary of one decision-log segment: its records added up per hour and (role, user, provider, model), with
/// their outcomes joined. Reports read summaries instead of records, so a report over a month reads a few
/// kilobytes per segment rather than every line.
///
/// An outcome is written after its record, so it may land in the next segment: a summary keeps the records still
/// waiting for their outcome (`awaiting`) and the outcomes whose record it did not hold (`orphans`), and
/// `SummaryIndex` joins them across neighbouring segments.
public struct SegmentSummary: Sendable, Hashable, Codable {
    public static let currentSchema = 3
    public var schema = SegmentSummary.currentSchema
    /// The bytes summarised (up to the end of the last complete line), and the file's size and modification time
    /// then: a summary is reused as it is only for that file, and extended from `segmentBytes` when it grew.
    public var segmentBytes: Int
    /// The end of the line at `segmentBytes` (see `SummaryIndex.lineTail`): the summary is reused or extended only
    /// while the file still holds that line there.
    public var lastLine = ""
    public var fileBytes = 0
    public var segmentModified: Double
    public var records = 0
    /// Per hour, role, provider and model.
    public var cells: [CellKey: SummaryCell] = [:]
    /// Per day, user, role, provider and model.
    public var users: [UserKey: UserCell] = [:]
    /// The category of every rule seen.
    public var ruleCategories: [String: String] = [:]
    /// Forwarded records whose outcome was not in this segment: id → the cells it belongs to.
    public var awaiting: [String: Awaiting] = [:]

    public struct Awaiting: Sendable, Hashable, Codable {
        public var cell: CellKey
        public var user: UserKey
    }
    /// Outcomes whose record was not in this segment: id → what they add (usage and latency only).
    public var orphans: [String: SummaryCell] = [:]
    /// The model names the cells use (see `maximumModels`).
    public var models: Set<String> = []
    /// The first and last record times, for skipping segments outside a report's window.
    public var firstTime: String?
    public var lastTime: String?

    public init(segmentBytes: Int, segmentModified: Double) {
        self.segmentBytes = segmentBytes
        self.segmentModified = segmentModified
    }

    /// Summarises `entries` (one segment's, in order).
    public static func summarise(_ entries: [LogEntry], segmentBytes: Int, segmentModified: Double) -> SegmentSummary {
        var summary = SegmentSummary(segmentBytes: segmentBytes, segmentModified: segmentModified)
        for entry in entries { summary.add(entry) }
        return summary
    }

    /// Adds one log line: a decision record, or a batch of outcomes (other lines count for nothing).
    mutating func add(_ entry: LogEntry) {
        if let record = entry.record {
            self.add(record)
        } else {
            for outcome in entry.allOutcomes { self.add(outcome) }
        }
    }

    mutating func add(_ record: DecisionRecord) {
        self.records += 1
        if self.firstTime == nil { self.firstTime = record.time }
        self.lastTime = record.time
        let role = record.identity?.role ?? "-"
        let provider = record.provider ?? "-"
        let model = self.modelLabel(record.model)
        let key = CellKey(hour: String(record.time.prefix(13)), role: role, provider: provider, model: model)
        let userKey = UserKey(
            day: String(record.time.prefix(10)), user: record.identity?.user ?? "-", role: role, provider: provider, model: model)
        var cell = self.cells[key] ?? SummaryCell()
        let decision = record.decision.rawValue
        var user = self.users[userKey] ?? UserCell()
        user.requests += 1
        user.decisions[decision, default: 0] += 1
        self.users[userKey] = user
        cell.requests += 1
        cell.decisions[decision, default: 0] += 1
        var categories = Set<String>()
        for rule in Set(record.findings.map(\.ruleID)) { cell.ruleDecisions[rule, default: [:]][decision, default: 0] += 1 }
        for finding in record.findings {
            self.ruleCategories[finding.ruleID] = finding.category
            cell.categoryFindings[finding.category, default: 0] += finding.count
            categories.insert(finding.category)
        }
        for category in categories { cell.categoryDecisions[category, default: [:]][decision, default: 0] += 1 }
        if Self.forwards(record.decision) {
            cell.forwarded += 1
            if record.sampled == true { cell.sampled += 1 }
            self.awaiting[record.id.rawValue] = Awaiting(cell: key, user: userKey)
        }
        self.cells[key] = cell
    }

    /// At most this many model names per segment: the caller writes the model, and one name per request would
    /// make a cell per request. Past it, and for names longer than 64 bytes, the model counts as `other`.
    static let maximumModels = 256

    private mutating func modelLabel(_ model: String?) -> String {
        guard let model else { return "-" }
        if self.models.contains(model) { return model }
        guard model.utf8.count <= 64, self.models.count < Self.maximumModels else { return "other" }
        self.models.insert(model)
        return model
    }

    mutating func add(_ outcome: RequestOutcome) {
        let contribution = Self.contribution(of: outcome)
        if let home = self.awaiting.removeValue(forKey: outcome.id.rawValue) {
            self.credit(contribution, to: home)
        } else {
            self.orphans[outcome.id.rawValue] = contribution
        }
    }

    /// Adds an outcome's usage and latency to the cells of its record.
    mutating func credit(_ contribution: SummaryCell, to home: Awaiting) {
        self.cells[home.cell]?.tokens.merge(contribution.tokens)
        self.cells[home.cell]?.latency.merge(contribution.latency)
        self.users[home.user]?.tokens.merge(contribution.tokens)
    }

    static func contribution(of outcome: RequestOutcome) -> SummaryCell {
        var cell = SummaryCell()
        if let usage = outcome.usage {
            cell.tokens.prompt = usage.prompt
            cell.tokens.completion = usage.completion
            cell.tokens.cached = usage.cached ?? 0
            cell.tokens.answers = 1
        }
        if let upstream = outcome.upstreamMs, outcome.error == nil {
            cell.latency.add(milliseconds: max(0, outcome.totalMs - upstream))
        }
        return cell
    }

    static func forwards(_ decision: Decision) -> Bool {
        switch decision {
        case .allow, .redact, .released, .uninspected: true
        case .block, .review, .refused, .error: false
        }
    }
}
