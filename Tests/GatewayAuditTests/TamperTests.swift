import Foundation
import GatewayCrypto
import Testing
@testable import GatewayAudit

@Suite("Verifier: every tamper class")
struct TamperTests {
    @Test func cleanLogAcrossRotationVerifies() async throws {
        let location = try await writeLog(temporaryLocation(), count: 40, maxSegmentBytes: 2_000)
        let report = try verify(location)
        #expect(report.ok, "\(String(describing: report.failure))")
        #expect(report.segments > 3)
        #expect(report.records == 40)
        // Reopen, append more, close again: still one valid chain.
        let log = try await AuditLog.open(AuditLogConfiguration(location: location))
        try await log.append(sampleRecord())
        try await log.close()
        #expect(try verify(location).ok)
    }

    @Test func editedByteIsDetected() async throws {
        let location = try await writeLog(temporaryLocation(), count: 5)
        let path = segmentPath(location, 1)
        var lines = readLines(path)
        lines[2] = lines[2].replacingOccurrences(of: "\"bytesIn\":120", with: "\"bytesIn\":121")
        try writeLines(lines, to: path)
        let failure = try #require(try verify(location).failure)
        #expect(failure.kind == .badMAC)
        #expect(failure.line == 3)
        #expect(failure.seq == 3)
    }

    @Test func editedAndReserialisedFieldIsDetected() async throws {
        let location = try await writeLog(temporaryLocation(), count: 5)
        let path = segmentPath(location, 1)
        var lines = readLines(path)
        // Decode, change the decision, re-encode with the same canonical encoder (keeping the old MAC).
        let (canonical, mac) = try #require(Sealing.split(Array(lines[1].utf8)))
        var entry = try JSONDecoder().decode(LogEntry.self, from: Data(canonical))
        entry.record?.decision = .allow
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let body = Array(try encoder.encode(entry)).dropLast()
        lines[1] = String(decoding: body, as: UTF8.self) + ",\"mac\":\"\(Crypto.hex(mac))\"}"
        try writeLines(lines, to: path)
        let failure = try #require(try verify(location).failure)
        #expect(failure.kind == .badMAC)
        #expect(failure.line == 2)
    }

    @Test func deletedRecordIsDetected() async throws {
        let location = try await writeLog(temporaryLocation(), count: 5)
        let path = segmentPath(location, 1)
        var lines = readLines(path)
        lines.remove(at: 2)
        try writeLines(lines, to: path)
        let failure = try #require(try verify(location).failure)
        #expect(failure.kind == .sequence)
        #expect(failure.line == 3)
    }

    @Test func insertedForgedRecordIsDetected() async throws {
        let location = try await writeLog(temporaryLocation(), count: 5)
        let path = segmentPath(location, 1)
        var lines = readLines(path)
        // A record forged with a key the attacker made up.
        let entry = LogEntry(seq: 3, prev: "00", kid: "forged", payload: .record(sampleRecord()))
        lines.insert(String(decoding: try entry.sealedLine(key: HMACKey(Crypto.randomBytes(count: 32))), as: UTF8.self), at: 2)
        try writeLines(lines, to: path)
        let failure = try #require(try verify(location).failure)
        #expect(failure.kind == .foreignKey)
        #expect(failure.line == 3)
    }

    @Test func duplicatedRecordIsDetected() async throws {
        let location = try await writeLog(temporaryLocation(), count: 5)
        let path = segmentPath(location, 1)
        var lines = readLines(path)
        lines.insert(lines[1], at: 2)
        try writeLines(lines, to: path)
        let failure = try #require(try verify(location).failure)
        #expect(failure.kind == .sequence)
        #expect(failure.line == 3)
    }

    @Test func reorderedRecordsAreDetected() async throws {
        let location = try await writeLog(temporaryLocation(), count: 5)
        let path = segmentPath(location, 1)
        var lines = readLines(path)
        lines.swapAt(1, 2)
        try writeLines(lines, to: path)
        let failure = try #require(try verify(location).failure)
        #expect(failure.kind == .sequence)
        #expect(failure.line == 2)
    }

    @Test func truncatedTailIsDetectedAgainstTheCheckpoint() async throws {
        let location = try await writeLog(temporaryLocation(), count: 6)
        let path = segmentPath(location, 1)
        let lines = readLines(path)
        try writeLines(Array(lines.dropLast(3)), to: path)  // checkpoint and two records gone
        let failure = try #require(try verify(location).failure)
        #expect(failure.kind == .truncated)
    }

    @Test func deletedLastSegmentIsDetected() async throws {
        let location = try await writeLog(temporaryLocation(), count: 30, maxSegmentBytes: 2_000)
        let last = try #require(SegmentNames.list(in: location.directory).last)
        try FileManager.default.removeItem(atPath: segmentPath(location, last))
        #expect(try verify(location).failure?.kind == .truncated)
    }

    @Test func recordSplicedFromAnotherGatewayIsDetected() async throws {
        let ours = try await writeLog(temporaryLocation(), count: 4)
        let theirs = try await writeLog(temporaryLocation(), count: 4)
        var lines = readLines(segmentPath(ours, 1))
        lines[2] = readLines(segmentPath(theirs, 1))[2]
        try writeLines(lines, to: segmentPath(ours, 1))
        let failure = try #require(try verify(ours).failure)
        #expect(failure.kind == .foreignKey)
        #expect(failure.line == 3)
    }

    @Test func recordFromAnotherChainWithTheSameKeyIsDetected() async throws {
        let ours = temporaryLocation()
        let theirs = AuditLocation(directory: ours.directory + "-other", keyFile: ours.keyFile)
        _ = try await writeLog(ours, count: 4)
        _ = try await writeLog(theirs, count: 4)
        var lines = readLines(segmentPath(ours, 1))
        lines[2] = readLines(segmentPath(theirs, 1))[2]  // same key, same seq, other chain
        try writeLines(lines, to: segmentPath(ours, 1))
        let failure = try #require(try verify(ours).failure)
        #expect(failure.kind == .chain)
        #expect(failure.line == 3)
    }
}
