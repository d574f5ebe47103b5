import Foundation
import GatewayCrypto

/// One line of a segment: an envelope that chains and authenticates exactly one payload.
///
/// Wire format (one line, `\n`-terminated):
/// `C` with `,"mac":"<64 hex>"` inserted before its final `}`, where `C` is the envelope without `mac`, encoded as
/// JSON with sorted keys. `mac = HMAC-SHA256(audit key, C)`, so the MAC covers the exact bytes, and any changed byte
/// fails it. `prev` is the SHA-256 (hex) of the whole previous line (without its `\n`), across segments, so a
/// deleted, inserted or reordered line breaks the chain. `seq` counts every line from 1.
public struct LogEntry: Sendable, Hashable, Codable {
    public static let formatVersion = 1
    /// `prev` of the very first line.
    public static let genesis = String(repeating: "0", count: 64)

    public enum Kind: String, Sendable, Hashable, Codable {
        /// `outcome` (one per line) is what logs written before outcomes were batched hold; it is still read.
        case record, outcome, outcomes, review, checkpoint
        /// A configuration reload, applied or refused (`ConfigEvent`).
        case config
    }

    public var v: Int
    public var seq: UInt64
    public var prev: String
    /// `KeyFile.keyID` of the key that MACed this line.
    public var kid: String
    public var kind: Kind
    public var record: DecisionRecord?
    /// One request's outcome: only in logs written before outcomes were batched (read, no longer written).
    public var outcome: RequestOutcome?
    /// The outcomes of the requests completed since the previous batch, in completion order.
    public var outcomes: [RequestOutcome]?
    public var review: ReviewEvent?
    public var checkpoint: Checkpoint?
    public var config: ConfigEvent?

    init(seq: UInt64, prev: String, kid: String, payload: AuditPayload) {
        self.v = Self.formatVersion
        self.seq = seq
        self.prev = prev
        self.kid = kid
        switch payload {
        case .record(let value): (self.kind, self.record) = (.record, value)
        case .outcomes(let values): (self.kind, self.outcomes) = (.outcomes, values)
        case .review(let value): (self.kind, self.review) = (.review, value)
        case .checkpoint(let value): (self.kind, self.checkpoint) = (.checkpoint, value)
        case .config(let value): (self.kind, self.config) = (.config, value)
        }
    }

    /// The record id this entry concerns, when it has one (the first, for a batch of outcomes).
    public var subject: RecordID? { self.record?.id ?? self.outcome?.id ?? self.outcomes?.first?.id ?? self.review?.id }

    /// The request outcomes this entry carries: one (older logs), several (a batch) or none.
    public var allOutcomes: [RequestOutcome] { self.outcomes ?? self.outcome.map { [$0] } ?? [] }

    /// The signed line bytes (without `\n`).
    func sealedLine(key: HMACKey) throws(AuditError) -> [UInt8] {
        try Sealing.seal(canonical: self.canonicalJSON(), key: key)
    }

    /// The entry as JSON with sorted keys. Records and batched outcomes (per request) are written directly;
    /// the rare reviews and checkpoints go through `JSONEncoder`.
    func canonicalJSON() throws(AuditError) -> [UInt8] {
        var json = CanonicalJSON()
        try self.write(to: &json)
        return json.bytes
    }

    /// Writes `canonicalJSON()` into `json` (the log seals it there, in place).
    func write(to json: inout CanonicalJSON) throws(AuditError) {
        let checkpoint = try self.checkpoint.map { value throws(AuditError) in try Sealing.encode(value) }
        let review = try self.review.map { value throws(AuditError) in try Sealing.encode(value) }
        let config = try self.config.map { value throws(AuditError) in try Sealing.encode(value) }
        json.object { json in
            if let checkpoint { json.member("checkpoint", raw: checkpoint) }
            if let config { json.member("config", raw: config) }
            json.member("kid", self.kid)
            json.member("kind", self.kind.rawValue)
            if let outcomes = self.outcomes {
                json.member("outcomes", array: outcomes) { json, outcome in json.object { outcome.writeMembers(to: &$0) } }
            }
            json.member("prev", self.prev)
            if let record = self.record { json.member("record") { record.writeMembers(to: &$0) } }
            if let review { json.member("review", raw: review) }
            json.member("seq", self.seq)
            json.member("v", self.v)
        }
    }
}

/// What an entry carries.
public enum AuditPayload: Sendable, Hashable {
    case record(DecisionRecord)
    /// The outcomes of several requests in one line (see `AuditLog.appendOutcome`).
    case outcomes([RequestOutcome])
    case review(ReviewEvent)
    case checkpoint(Checkpoint)
    case config(ConfigEvent)
}

/// A configuration reload: the rule set and policy it put in force, or why it was refused (the previous set then
/// keeps serving). Decision records name the hashes they were decided under; these lines say when each came in.
public struct ConfigEvent: Sendable, Hashable, Codable {
    public enum Event: String, Sendable, Hashable, Codable {
        /// A valid configuration replaced the one in force.
        case configReloaded = "config_reloaded"
        /// The configuration was invalid; nothing changed.
        case configReloadFailed = "config_reload_failed"
    }

    public var time: String
    public var event: Event
    /// The rule set and policy in force after the event (the new ones, or the unchanged ones after a failure).
    public var ruleSetHash: String
    public var policyHash: String
    /// Why a reload was refused, as `config check` reports it.
    public var problems: [String]?
    /// Settings that changed in the files but take effect only at the next start.
    public var restartRequired: [String]?

    public init(
        time: String = UTCTime.format(milliseconds: UTCTime.nowMilliseconds()), event: Event, ruleSetHash: String,
        policyHash: String, problems: [String]? = nil, restartRequired: [String]? = nil
    ) {
        self.time = time
        self.event = event
        self.ruleSetHash = ruleSetHash
        self.policyHash = policyHash
        self.problems = problems
        self.restartRequired = restartRequired
    }
}

/// Closes a segment (rotation, clean shutdown, or recovery after a crash or write failure).
public struct Checkpoint: Sendable, Hashable, Codable {
    public enum Reason: String, Sendable, Hashable, Codable { case rotate, shutdown, recovered }
    /// The segment's number.
    public var segment: Int
    /// Lines in this segment before the checkpoint.
    public var count: Int
    /// SHA-256 of the last line before the checkpoint (equal to the checkpoint's `prev`).
    public var lastHash: String
    public var time: String
    public var reason: Reason
}

/// A line split into its signed part and MAC, and decoded.
struct ParsedLine {
    let entry: LogEntry
    let canonical: [UInt8]
    let mac: [UInt8]

    enum Failure: Error { case malformed, undecodable }

    /// Splits and decodes `line` (no `\n`); does not check the MAC.
    static func parse(_ line: ArraySlice<UInt8>) throws(Failure) -> ParsedLine {
        guard let (canonical, mac) = Sealing.split(line) else { throw .malformed }
        guard let entry = try? JSONDecoder().decode(LogEntry.self, from: Data(canonical)) else { throw .undecodable }
        return ParsedLine(entry: entry, canonical: canonical, mac: mac)
    }

    /// Whether the MAC verifies under `key`.
    func authentic(key: [UInt8]) -> Bool { Sealing.authentic(canonical: self.canonical, mac: self.mac, key: key) }
}
