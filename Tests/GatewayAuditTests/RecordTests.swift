import Foundation
import GatewayCrypto
import Testing
@testable import GatewayAudit

@Suite("Decision records carry no sensitive content")
struct RecordTests {
    private func keys(_ value: some Encodable) throws -> Set<String> {
        let data = try JSONEncoder().encode(value)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        return Set(object.keys)
    }

    @Test func recordJSONHoldsOnlyTheExpectedKeys() throws {
        let record = sampleRecord()
        #expect(
            try keys(record) == [
                "schema", "id", "time", "requestID", "instance", "clientAddress", "identity", "provider", "method", "path",
                "model", "decision", "reason", "status", "findings", "bytesIn", "bytesForwarded", "inspectMs",
                "ruleSetHash", "policyHash", "quarantined",
            ]
        )
        #expect(try keys(record.identity!) == ["user", "role", "keyID"])
        #expect(
            try keys(record.findings[0]) == [
                "ruleID", "category", "type", "location", "confidence", "count", "fingerprint", "preview", "action",
            ]
        )
        let everyOptional = DecisionRecord(
            requestID: "r", instance: "i", clientAddress: nil, identity: nil, provider: nil, method: "GET", target: "/",
            model: nil, decision: .released, reason: "x", bytesIn: 0, ruleSetHash: nil, policyHash: nil,
            release: ReleaseReference(blockedRecord: .generate(), tokenID: "t", reviewer: "bob")
        )
        #expect(try keys(everyOptional).contains("release"))
        #expect(!(try keys(everyOptional)).contains { ["body", "prompt", "content", "headers", "authorization"].contains($0.lowercased()) })
    }

    @Test func queryStringsReasonsAndLabelsCannotCarryContent() throws {
        let record = sampleRecord()
        #expect(record.path == "/v1/chat/completions")
        #expect(ReasonCode("Card 4111 1111 1111 1111 found!").rawValue == "card_4111_1111_1111_1111_found_")
        #expect(ReasonCode(String(repeating: "a", count: 500)).rawValue.count == 64)
        #expect(ReasonCode(String(repeating: "a", count: 64)).rawValue.count == 64)
        #expect(ReasonCode("rule_match.allowed").rawValue == "rule_match.allowed")
        #expect(ReasonCode("Upstream.Timeout").rawValue == "upstream.timeout")
        #expect(ReasonCode("").rawValue == "unspecified")
        #expect(SafeLabel.path("/v1/chat/completions?api_key=SECRET") == "/v1/chat/completions")
        #expect(SafeLabel.clean(String(repeating: "x", count: 10_000)).count == SafeLabel.maxLength + 1)
        #expect(SafeLabel.clean("a\nb") == "a?b")
        let finding = FindingSummary(
            ruleID: "r", category: "c", type: "t", location: "$", confidence: 1, fingerprint: "f",
            preview: "sk-live-0123456789abcdefghijklmnop", action: "block"
        )
        #expect(finding.preview.count <= 25)
    }

    @Test func recordIDsAreTimeOrderedUUIDv7() {
        let early = RecordID.generate(milliseconds: 1_700_000_000_000)
        let late = RecordID.generate(milliseconds: 1_700_000_000_001)
        #expect(early < late)
        #expect(early.rawValue.count == 36)
        #expect(Array(early.rawValue)[14] == "7")
        #expect(RecordID(early.rawValue) == early)
        #expect(RecordID("not-an-id") == nil)
        #expect(RecordID.generate() != RecordID.generate())
    }

    @Test("Ids drawn from the shared random buffer never repeat, across many refills and from several threads")
    func recordIDsNeverRepeatAcrossRefills() async {
        // 4 tasks × 1000 ids × 16 random bytes each use the 4 KiB buffer up about sixteen times over.
        let ids = await withTaskGroup(of: [RecordID].self) { group in
            for _ in 0..<4 { group.addTask { (0..<1000).map { _ in RecordID.generate(milliseconds: 1_700_000_000_000) } } }
            return await group.reduce(into: [RecordID]()) { $0 += $1 }
        }
        #expect(Set(ids).count == 4000)
        let random = Crypto.identifierBytes(count: 4096)  // a whole buffer at once: a refill of its own
        #expect(Set(random).count > 200)  // 4 KiB from a CSPRNG holds nearly every byte value
    }

    @Test func timesHaveMillisecondsAndRoundTrip() throws {
        #expect(UTCTime.format(milliseconds: 1_700_000_000_123) == "2023-11-14T22:13:20.123Z")
        #expect(UTCTime.format(milliseconds: 5) == "1970-01-01T00:00:00.005Z")
        #expect(UTCTime.format(milliseconds: 4_102_444_799_999) == "2099-12-31T23:59:59.999Z")
        // The date part is formatted once per second: within a second only the milliseconds change, across a
        // second boundary (and back) everything is right.
        #expect(UTCTime.format(milliseconds: 1_700_000_000_999) == "2023-11-14T22:13:20.999Z")
        #expect(UTCTime.format(milliseconds: 1_700_000_001_000) == "2023-11-14T22:13:21.000Z")
        #expect(UTCTime.format(milliseconds: 1_700_000_000_001) == "2023-11-14T22:13:20.001Z")
        #expect(UTCTime.format(milliseconds: 1_700_086_400_001) == "2023-11-15T22:13:20.001Z")
        let date = try #require(UTCTime.parse("2023-11-14T22:13:20.123Z"))
        #expect(abs(date.timeIntervalSince1970 - 1_700_000_000.123) < 0.001)
    }

    @Test func findingsAggregateByRuleLocationAndFingerprint() {
        let one = FindingSummary(ruleID: "r", category: "c", type: "t", location: "$", confidence: 0.5, fingerprint: "f", preview: "p", action: "block")
        var other = one
        other.fingerprint = "g"
        let merged = FindingSummary.aggregate([one, one, other])
        #expect(merged.count == 2)
        #expect(merged[0].count == 2)
    }

    @Test func filtersSelectRecords() {
        let record = sampleRecord(user: "alice", decision: .block, rule: "pan.visa")
        #expect(RecordFilter(decisions: [.block], user: "alice", rule: "pan.visa", category: "payment").matches(record))
        #expect(!RecordFilter(decisions: [.allow]).matches(record))
        #expect(!RecordFilter(role: "admin").matches(record))
        #expect(!RecordFilter(since: Date().addingTimeInterval(3_600)).matches(record))
        #expect(RecordFilter(since: Date().addingTimeInterval(-3_600)).matches(record))
    }
}
