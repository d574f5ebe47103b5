import Foundation
@testable import GatewayAccess
import Testing

@Suite("Gateway keys")
struct GatewayKeyTests {
    @Test func generatedKeysHaveTheFormatAndParse() throws {
        let key = GatewayKey.generate()
        #expect(key.text.hasPrefix("gwk_"))
        #expect(key.text.count == GatewayKey.length)
        #expect(try GatewayKey(parsing: key.text).id == key.id)
        #expect(key.digest.count == 64)
        #expect(GatewayKey.generate().text != key.text)
    }

    @Test func malformedKeysAreRefusedWithoutLookup() throws {
        let key = GatewayKey.generate().text
        #expect(throws: GatewayKey.FormatError.wrongPrefix) { try GatewayKey(parsing: "sk-" + key.dropFirst(3)) }
        #expect(throws: GatewayKey.FormatError.wrongLength) { try GatewayKey(parsing: String(key.dropLast())) }
        #expect(throws: GatewayKey.FormatError.invalidCharacter) { try GatewayKey(parsing: String(key.dropLast()) + "-") }
        // Change one character of the secret: the checksum no longer matches.
        var characters = Array(key)
        let index = 20
        characters[index] = characters[index] == "A" ? "B" : "A"
        #expect(throws: GatewayKey.FormatError.checksumMismatch) { try GatewayKey(parsing: String(characters)) }
    }
}

@Suite("Key store")
struct KeyStoreTests {
    private func temporaryPath() -> String {
        NSTemporaryDirectory() + "keys-\(UUID().uuidString)/keys.json"
    }

    private func add(_ key: GatewayKey, role: String = "engineer", expires: Date? = nil, to path: String) throws {
        var file = try KeyFile.load(path: path)
        file.keys.append(
            KeyRecord(id: key.id, user: "alice", role: role, digest: key.digest, created: Date(), expires: expires)
        )
        try file.save(path: path)
    }

    @Test func authenticatesKnownKeysAndRefusesTheRest() throws {
        let path = self.temporaryPath()
        let key = GatewayKey.generate()
        try self.add(key, to: path)
        let store = try KeyStore(path: path)
        #expect(try store.authenticate(key.text).get().user == "alice")
        #expect(store.authenticate(nil) == .failure(.missing))
        #expect(store.authenticate("gwk_nonsense") == .failure(.malformed))
        #expect(store.authenticate(GatewayKey.generate().text) == .failure(.unknown))
        let expired = GatewayKey.generate()
        try self.add(expired, expires: Date().addingTimeInterval(-1), to: path)
        try store.reloadIfChanged()
        #expect(store.authenticate(expired.text) == .failure(.expired))
    }

    @Test func revocationIsSeenOnReload() throws {
        let path = self.temporaryPath()
        let key = GatewayKey.generate()
        try self.add(key, to: path)
        let store = try KeyStore(path: path)
        #expect((try? store.authenticate(key.text).get()) != nil)
        var file = try KeyFile.load(path: path)
        file.keys[0].revoked = Date()
        try file.save(path: path)
        #expect(try store.reloadIfChanged())
        #expect(store.authenticate(key.text) == .failure(.revoked))
    }

    @Test func aRememberedKeyIsStillCheckedAgainstTheCurrentKeys() throws {
        let path = self.temporaryPath()
        let key = GatewayKey.generate()
        let other = GatewayKey.generate()
        try self.add(key, to: path)
        try self.add(other, to: path)
        let store = try KeyStore(path: path)
        var verified: VerifiedKey? = nil
        #expect(try store.authenticate(key.text, remembering: &verified).get().id == key.id)
        #expect(verified != nil)
        #expect(!String(describing: verified!).contains(key.text), "printing the memo must not show the key")
        #expect(!String(reflecting: verified!).contains(key.text))
        #expect(try store.authenticate(key.text, remembering: &verified).get().id == key.id)

        // Another key on the same connection is verified in full, and replaces the memo.
        #expect(try store.authenticate(other.text, remembering: &verified).get().id == other.id)
        #expect(store.authenticate(GatewayKey.generate().text, remembering: &verified) == .failure(.unknown))
        #expect(verified == nil)

        // Revocation applies to the remembered key at once.
        #expect(try store.authenticate(key.text, remembering: &verified).get().id == key.id)
        var file = try KeyFile.load(path: path)
        file.keys[0].revoked = Date()
        try file.save(path: path)
        #expect(try store.reloadIfChanged())
        #expect(store.authenticate(key.text, remembering: &verified) == .failure(.revoked))

        // A key removed from the file is unknown, memo or not.
        #expect(try store.authenticate(other.text, remembering: &verified).get().id == other.id)
        file.keys.removeAll { $0.id == other.id }
        try file.save(path: path)
        #expect(try store.reloadIfChanged())
        #expect(store.authenticate(other.text, remembering: &verified) == .failure(.unknown))
    }

    @Test func aRememberedKeyDoesNotAcceptAnotherSecretUnderItsID() throws {
        let path = self.temporaryPath()
        let key = GatewayKey.generate()
        try self.add(key, to: path)
        let store = try KeyStore(path: path)
        var verified: VerifiedKey? = nil
        #expect((try? store.authenticate(key.text, remembering: &verified).get()) != nil)
        // Same id, another secret, a valid checksum: only the stored digest can tell it apart.
        let body = GatewayKey.prefix + key.id + String(repeating: "A", count: GatewayKey.secretLength)
        let forged = body + Base62.encode(GatewayKey.checksum(Array(body.utf8)[...]), width: GatewayKey.checksumLength)
        #expect(try GatewayKey(parsing: forged).id == key.id)
        #expect(store.authenticate(forged, remembering: &verified) == .failure(.unknown))
        #expect(verified == nil)
    }

    @Test func theKeysFileHoldsNoKeyInClearAndIsPrivate() throws {
        let path = self.temporaryPath()
        let keys = (0..<5).map { _ in GatewayKey.generate() }
        for key in keys { try self.add(key, to: path) }
        let text = try String(contentsOfFile: path, encoding: .utf8)
        for key in keys {
            #expect(!text.contains(key.text))
            #expect(!text.contains(String(key.text.dropFirst(14).prefix(32))))  // nor the secret part
            #expect(text.contains(key.digest))
        }
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber
        #expect(mode?.intValue == 0o600)
    }
}

@Suite("Rate limiter")
struct RateLimiterTests {
    @Test func burstThenRefusalThenRefill() {
        let limiter = RateLimiter()
        let start = ContinuousClock.now
        let allowed = (0..<50).filter { _ in
            limiter.take(caller: "k1", requestsPerMinute: 60, burst: 10, now: start) == nil
        }.count
        #expect(allowed == 10)  // exactly the burst; every excess request refused
        #expect(limiter.take(caller: "k1", requestsPerMinute: 60, burst: 10, now: start) == 1)
        #expect(limiter.take(caller: "k2", requestsPerMinute: 60, burst: 10, now: start) == nil)  // others unaffected
        #expect(limiter.take(caller: "k1", requestsPerMinute: 60, burst: 10, now: start + .seconds(1)) == nil)
    }
}
