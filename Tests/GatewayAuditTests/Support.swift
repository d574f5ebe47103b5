import Foundation
@testable import GatewayAudit

/// A fresh temporary audit location per test.
func temporaryLocation() -> AuditLocation {
    let base = NSTemporaryDirectory() + "audit-\(UUID().uuidString)"
    return AuditLocation(directory: base + "/audit")
}

func sampleRecord(user: String = "alice", decision: Decision = .block, rule: String = "pan.visa") -> DecisionRecord {
    DecisionRecord(
        requestID: "req-1", instance: "gw-test", clientAddress: "127.0.0.1",
        identity: Identity(user: user, role: "engineer", keyID: "k1"), provider: "openai", method: "POST",
        target: "/v1/chat/completions?api_key=SECRET", model: "gpt-4o-mini", decision: decision, reason: "rule_match",
        status: decision == .block ? 403 : nil,
        findings: [
            FindingSummary(
                ruleID: rule, category: "payment", type: "card_number", location: "messages[0].content", confidence: 0.99,
                fingerprint: "ab12cd34ef56ab78", preview: "****1111", action: "block"
            )
        ],
        bytesIn: 120, inspectMs: 0.4, ruleSetHash: "r" + String(repeating: "0", count: 63), policyHash: "p1",
        quarantined: decision == .block
    )
}

/// Writes `count` records and closes the log; returns the location.
func writeLog(_ location: AuditLocation, count: Int, maxSegmentBytes: Int = 64 << 20) async throws -> AuditLocation {
    var configuration = AuditLogConfiguration(location: location)
    configuration.maxSegmentBytes = maxSegmentBytes
    let log = try await AuditLog.open(configuration)
    for index in 0..<count { try await log.append(sampleRecord(user: "user\(index)")) }
    try await log.close()
    return location
}

func verify(_ location: AuditLocation) throws -> VerificationReport {
    let key = try KeyFile.load(path: location.keyFile)!
    return AuditVerifier(directory: location.directory, key: key.bytes).verify()
}

func segmentPath(_ location: AuditLocation, _ index: Int) -> String {
    location.directory + "/" + SegmentNames.name(index)
}

/// The lines of a segment (without newlines) and a way to write them back.
func readLines(_ path: String) -> [String] {
    let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    return text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
}

func writeLines(_ lines: [String], to path: String) throws {
    try (lines.map { $0 + "\n" }.joined()).write(toFile: path, atomically: false, encoding: .utf8)
}
