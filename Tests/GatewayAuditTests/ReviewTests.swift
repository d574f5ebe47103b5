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
