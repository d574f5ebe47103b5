import Foundation
import GatewayCrypto
import Testing
@testable import GatewayAudit

@Suite("Quarantine, reveal and release")
struct ReviewTests {
    let body = Array(#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"card 4111111111111111"}]}"#.utf8)
    let alice = Sender(user: "alice", keyID: "k1")

    @Test func quarantineRoundTripAndPurge() throws {
        let location = temporaryLocation()
        let quarantine = try Quarantine(location: location, retention: 60)
        let id = RecordID.generate()
        let now = Date()
        let entry = try quarantine.store(body: self.body, recordID: id, sender: self.alice, now: now)
        #expect(entry.bodySHA256 == Crypto.hex(Crypto.sha256(self.body)))
        #expect(try quarantine.open(id) == self.body)
        // Encrypted at rest: the card number is not in the file.
        let stored = try #require(FileManager.default.contents(atPath: location.quarantineDirectory + "/\(id).body"))
        #expect(!String(decoding: stored, as: UTF8.self).contains("4111111111111111"))
        // Another key cannot open it.
        let other = try Quarantine(directory: location.quarantineDirectory, keyFile: location.quarantineKeyFile + "-other")
        #expect(throws: QuarantineError.undecryptable(id)) { try other.open(id) }
        #expect(quarantine.purge(now: now.addingTimeInterval(30)).isEmpty)
        #expect(quarantine.purge(now: now.addingTimeInterval(61)) == [id])
        #expect(throws: QuarantineError.notFound(id)) { try quarantine.open(id) }
    }

    @Test func revealIsRecordedNamingTheReviewer() async throws {
        let location = temporaryLocation()
        let desk = ReviewDesk(quarantine: try Quarantine(location: location), ledger: ReleaseLedger(location: location))
        let id = RecordID.generate()
        try desk.quarantine.store(body: self.body, recordID: id, sender: self.alice)
        let log = try await AuditLog.open(location.reviewLog)
        #expect(try await desk.reveal(id, reviewer: "bob", log: log) == self.body)
        try await log.close()
        let events = AuditReader.entries(directory: location.reviewDirectory).compactMap(\.review)
        #expect(events.map(\.action) == [.reveal])
        #expect(events.first?.reviewer == "bob")
        #expect(events.first?.id == id)
        #expect(AuditVerifier(directory: location.reviewDirectory, key: try KeyFile.load(path: location.keyFile)!.bytes).verify().ok)
    }

    @Test func releaseTokenIsBoundToBodyAndSenderAndSingleUse() async throws {
        let location = temporaryLocation()
        let desk = ReviewDesk(quarantine: try Quarantine(location: location), ledger: ReleaseLedger(location: location))
        let id = RecordID.generate()
        try desk.quarantine.store(body: self.body, recordID: id, sender: self.alice)
        let log = try await AuditLog.open(location.reviewLog)
        let (token, grant) = try await desk.release(id, reviewer: "bob", reason: "test card", log: log)
        try await log.close()
        #expect(token.hasPrefix("gwr_"))
        #expect(grant.recordID == id)
        let ledger = ReleaseLedger(location: location)
        #expect(throws: ReleaseError.bodyMismatch) { try ledger.redeem(token: token, body: self.body + [0x20], sender: self.alice) }
        #expect(throws: ReleaseError.senderMismatch) {
            try ledger.redeem(token: token, body: self.body, sender: Sender(user: "mallory", keyID: "k9"))
        }
        #expect(throws: ReleaseError.senderMismatch) {
            try ledger.redeem(token: token, body: self.body, sender: Sender(user: "alice", keyID: "k2"))
        }
        var forged = Array(token)
        forged[forged.count - 1] = forged.last == "a" ? "b" : "a"
        #expect(throws: ReleaseError.unknownToken) { try ledger.redeem(token: String(forged), body: self.body, sender: self.alice) }
        #expect(throws: ReleaseError.malformedToken) { try ledger.redeem(token: "Bearer x", body: self.body, sender: self.alice) }
        let used = try ledger.redeem(token: token, body: self.body, sender: self.alice)
        #expect(used.state == .consumed)
        #expect(throws: ReleaseError.alreadyUsed) { try ledger.redeem(token: token, body: self.body, sender: self.alice) }
        let events = AuditReader.entries(directory: location.reviewDirectory).compactMap(\.review)
        #expect(events.first?.tokenID == grant.tokenID)
        #expect(!(try String(contentsOfFile: segmentPath(AuditLocation(directory: location.reviewDirectory), 1), encoding: .utf8)).contains(token))
    }

    @Test func releaseTokenExpires() throws {
        let location = temporaryLocation()
        let quarantine = try Quarantine(location: location)
        let entry = try quarantine.store(body: self.body, recordID: .generate(), sender: self.alice)
        let ledger = ReleaseLedger(location: location)
        let now = Date()
        let (token, _) = try ledger.issue(for: entry, reviewer: "bob", reason: "ok", lifetime: 60, now: now)
        #expect(throws: ReleaseError.expired) {
            try ledger.redeem(token: token, body: self.body, sender: self.alice, now: now.addingTimeInterval(61))
        }
        #expect(try ledger.redeem(token: token, body: self.body, sender: self.alice, now: now.addingTimeInterval(59)).state == .consumed)
    }

    @Test func denyRevokesAndFourEyesRefusesTheSender() throws {
        let location = temporaryLocation()
        let quarantine = try Quarantine(location: location)
        let entry = try quarantine.store(body: self.body, recordID: .generate(), sender: self.alice)
        let ledger = ReleaseLedger(location: location)
        #expect(throws: ReleaseError.fourEyes) { try ledger.issue(for: entry, reviewer: "alice", reason: "mine", fourEyes: true) }
        let (token, _) = try ledger.issue(for: entry, reviewer: "bob", reason: "ok")
        try ledger.deny(entry.recordID, reviewer: "carol")
        #expect(throws: ReleaseError.alreadyUsed) { try ledger.redeem(token: token, body: self.body, sender: self.alice) }
        #expect(throws: ReleaseError.denied(entry.recordID)) { try ledger.issue(for: entry, reviewer: "bob", reason: "again") }
        #expect(try ledger.isDenied(entry.recordID))
    }

    @Test func concurrentRedeemsConsumeOnce() async throws {
        let location = temporaryLocation()
        let quarantine = try Quarantine(location: location)
        let entry = try quarantine.store(body: self.body, recordID: .generate(), sender: self.alice)
        let ledger = ReleaseLedger(location: location)
        let (token, _) = try ledger.issue(for: entry, reviewer: "bob", reason: "ok")
        let body = self.body
        let alice = self.alice
        let successes = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<8 { group.addTask { (try? ledger.redeem(token: token, body: body, sender: alice)) != nil } }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(successes == 1)
    }
}

@Suite("Short record ids")
struct ShortRecordIDTests {
    @Test("A short id names one record from its end or its start; too short, unknown or ambiguous is refused")
    func resolve() throws {
        let ids = ["01920c4e-7b1a-7c3d-9e2f-0a1b2c3d4e5f", "01920c4e-7b1a-7c3d-9e2f-ffffffff0001",
                   "01930000-0000-7000-8000-0000abcdef12"].compactMap(RecordID.init)
        #expect(ids.count == 3)
        #expect(ids[0].short == "2c3d4e5f")
        #expect(RecordID.resolve("2c3d4e5f", among: ids) == .success(ids[0]))
        #expect(RecordID.resolve("2C3D4E5F", among: ids) == .success(ids[0]), "case does not matter")
        #expect(RecordID.resolve("019300", among: ids) == .success(ids[2]), "from the start too")
        #expect(RecordID.resolve(ids[1].rawValue, among: []) == .success(ids[1]), "a full id needs no lookup")
        #expect(RecordID.resolve("01920c4e-7b1a", among: ids) == .failure(.ambiguous("01920c4e-7b1a", [ids[0], ids[1]])))
        #expect(RecordID.resolve("abc12", among: ids) == .failure(.malformed("abc12")))
        #expect(RecordID.resolve("zzzzzzzz", among: ids) == .failure(.malformed("zzzzzzzz")))
        #expect(RecordID.resolve("deadbeef", among: ids) == .failure(.notFound("deadbeef")))
    }
}
