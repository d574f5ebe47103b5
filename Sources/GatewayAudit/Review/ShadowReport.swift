import Foundation

/// What the shadow rules would have changed, per rule, over a set of decision records: `gatewayctl rules shadow`.
/// A team reads it before switching a rule from `mode: shadow` to live.
public struct ShadowReport: Sendable {
    public struct RuleLine: Sendable, Hashable {
        public let rule: String
        /// Requests on which the rule fired.
        public var fired = 0
        /// How many requests' decisions would have changed, by change (`allow→redact`, `redact→block`, ...).
        public var changes: [String: Int] = [:]
        /// Up to `examples` record ids of changed requests, oldest first, to inspect with `gatewayctl log show`.
        public var examples: [RecordID] = []
        public var changed: Int { self.changes.values.reduce(0, +) }
    }

    public var lines: [RuleLine]
    /// Records read, and records with a shadow outcome.
    public var records = 0
    public var withShadow = 0

    /// - Parameter since: only records at or after this time.
    public init(views: [RecordView], since: Date? = nil, examples: Int = 5) {
        var byRule: [String: RuleLine] = [:]
        var records = 0
        var withShadow = 0
        for view in views {
            let record = view.record
            if let since, let time = UTCTime.parse(record.time), time < since { continue }
            records += 1
            guard let shadow = record.shadow else { continue }
            withShadow += 1
            let change = shadow.decision == record.decision ? nil : "\(record.decision.rawValue)→\(shadow.decision.rawValue)"
            for rule in shadow.rules {
                var line = byRule[rule] ?? RuleLine(rule: rule)
                line.fired += 1
                if let change {
                    line.changes[change, default: 0] += 1
                    if line.examples.count < examples { line.examples.append(record.id) }
                }
                byRule[rule] = line
            }
        }
        self.lines = byRule.values.sorted { ($0.changed, $0.fired, $1.rule) > ($1.changed, $1.fired, $0.rule) }
        self.records = records
        self.withShadow = withShadow
    }

    /// A plain-text table: per rule, requests fired on, requests changed by kind of change, example record ids.
    public func render() -> String {
        var text = "\(self.records) records, \(self.withShadow) with shadow findings\n"
        guard !self.lines.isEmpty else { return text + "no shadow rule fired\n" }
        text += "rule                              fired  changed  changes                          examples\n"
        for line in self.lines {
            let changes = line.changes.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            text += line.rule.padding(toLength: 32, withPad: " ", startingAt: 0)
                + String(format: " %7d %8d  ", line.fired, line.changed)
                + changes.padding(toLength: 32, withPad: " ", startingAt: 0) + " "
                + line.examples.map(\.rawValue).joined(separator: " ") + "\n"
        }
        return text
    }
}
