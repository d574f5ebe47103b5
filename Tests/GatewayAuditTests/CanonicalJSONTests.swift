import Foundation
import GatewayCrypto
import Testing
@testable import GatewayAudit

/// The hand-written encoder of the hot path must write exactly what the format specifies: the bytes `JSONEncoder`
/// writes with sorted keys. Any drift (a new field forgotten, an escape missed) fails here.
@Suite("Log lines: the direct JSON writer equals JSONEncoder")
struct CanonicalJSONTests {
    private func reference(_ entry: LogEntry) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(entry))
    }

    private func record(_ n: Int) -> DecisionRecord {
        let awkward = ["plain", "quote \" and \\ backslash", "tab\tnew\nline\r", "\u{1}\u{1f} control", "é ü 中文 😀", "/v1/a/b"]
        let text = awkward[n % awkward.count]
        let findings = (0..<(n % 4)).map { index in
            FindingSummary(
                ruleID: "rule-\(index)", category: "pii", type: text, location: "$.messages[\(index)].content",
                confidence: [0.5, 1.0, 0.875, 0.1 + Double(n) / 7][index % 4], count: index + 1,
                fingerprint: String(repeating: "ab", count: 8), preview: "****1111", action: "redact"
            )
        }
        var record = DecisionRecord(
            requestID: "req_\(n)", instance: "host:8443", clientAddress: n % 2 == 0 ? "127.0.0.1" : nil,
            identity: n % 3 == 0 ? nil : Identity(user: text, role: "engineer", keyID: n % 2 == 0 ? "k\(n)" : nil),
            provider: n % 5 == 0 ? nil : "openai", method: "POST", target: "/v1/chat/completions?x=\(n)",
            model: n % 2 == 0 ? "gpt-4o" : nil, decision: Decision.allCases[n % Decision.allCases.count],
            reason: "rule_match.allowed", status: n % 2 == 0 ? nil : 403, findings: findings, bytesIn: n * 1000,
            bytesForwarded: n * 999, inspectMs: n % 3 == 0 ? nil : Double(n) * 0.013, ruleSetHash: "abc",
            policyHash: nil, quarantined: n % 2 == 1,
            release: n % 4 == 1 ? ReleaseReference(blockedRecord: .generate(), tokenID: "t\(n)", reviewer: text) : nil
        )
        if n % 3 != 1 {
            record.documents = (0..<(n % 3 + 1)).map { index in
                DocumentEntry(location: "multipart:file (\(text))", format: ["pdf", "docx", "remote"][index % 3],
                              bytes: n * 10 + index, pages: index == 1 ? nil : index + 2, findings: index,
                              outcome: ["inspected", "refused", "uninspected"][index % 3],
                              unreadable: index == 0 ? nil : ["page \(index): \(text)", "images: OCR is off"])
            }
        }
        if n % 2 == 0 {
            record.shadow = ShadowSummary(decision: [.block, .redact, .allow][n % 3], rules: ["r-\(text)", "a-\(n)"], findings: n)
        }
        return record
    }

    @Test("Decision records, with every optional present and absent, and awkward strings")
    func records() throws {
        for n in 0..<60 {
            let entry = LogEntry(seq: UInt64(n + 1), prev: LogEntry.genesis, kid: "kid", payload: .record(self.record(n)))
            let direct = try entry.canonicalJSON()
            #expect(direct == (try self.reference(entry)), "record \(n): \(String(decoding: direct, as: UTF8.self))")
        }
    }

    @Test("A line many times longer than the writer's first allocation grows it without losing a byte")
    func longLine() throws {
        var record = self.record(7)
        record.findings = (0..<60).map { index in
            FindingSummary(
                ruleID: "rule-\(index)", category: "secret", type: "é \"\(index)\"", location: "$.input[\(index)]",
                confidence: 0.9, fingerprint: String(repeating: "cd", count: 8), preview: "…\(index)", action: "block"
            )
        }
        let entry = LogEntry(seq: 9, prev: LogEntry.genesis, kid: "kid", payload: .record(record))
        let direct = try entry.canonicalJSON()
        #expect(direct.count > 4 * 2048)
        #expect(direct == (try self.reference(entry)))
    }

    @Test("Sealing in the writer's buffer gives the bytes sealing the finished JSON gives")
    func sealInPlace() throws {
        let key = HMACKey([UInt8](repeating: 7, count: 32))
        for n in 0..<12 {
            let entry = LogEntry(seq: UInt64(n + 1), prev: LogEntry.genesis, kid: "kid", payload: .record(self.record(n)))
            var json = CanonicalJSON(capacity: 64)
            try entry.write(to: &json)
            Sealing.seal(&json, mac: SerialHMAC(key: key))
            #expect(json.bytes == Sealing.seal(canonical: try entry.canonicalJSON(), key: key), "record \(n)")
        }
    }

    @Test("Outcomes, reviews and checkpoints")
    func otherPayloads() throws {
        for n in 0..<30 {
            let outcome = RequestOutcome(
                id: .generate(), upstreamStatus: n % 2 == 0 ? 200 : nil, status: n % 3 == 0 ? nil : 502,
                bytesOut: n * 17, streamed: n % 2 == 0, upstreamMs: n % 4 == 0 ? nil : Double(n) / 3,
                totalMs: Double(n) * 1.5, error: n % 2 == 0 ? nil : "upstream.upstream_timeout"
            )
            let payloads: [AuditPayload] = [
                .outcomes([outcome]),
                .outcomes((0...(n % 4)).map { _ in outcome }),
                .review(ReviewEvent(id: .generate(), action: .release, reviewer: "rev \"\(n)\"", reason: "ok\n")),
                .checkpoint(Checkpoint(segment: n, count: n * 3, lastHash: LogEntry.genesis, time: "t", reason: .rotate)),
            ]
            for payload in payloads {
                let entry = LogEntry(seq: UInt64(n), prev: LogEntry.genesis, kid: "kid", payload: payload)
                #expect(try entry.canonicalJSON() == (try self.reference(entry)), "\(payload)")
            }
        }
    }
}
