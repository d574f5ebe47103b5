import COpenSSL
import GatewayCrypto
import Synchronization

/// The keys that seal TLS session tickets, rotated on a schedule.
///
/// A ticket is sealed under the current key; the previous key still opens tickets (and asks for a fresh ticket),
/// so a rotation never forces every client into a full handshake at once. Keys live only in memory: a restart
/// invalidates every outstanding ticket, which is the safe direction.
final class SessionTicketKeyRing: Sendable {
    struct Key: Sendable {
        let name: [UInt8]  // 16 bytes, sent in the clear inside the ticket to find the key again
        let hmacKey: [UInt8]  // 32 bytes
        let aesKey: [UInt8]  // 32 bytes
        let createdAt: ContinuousClock.Instant

        static func generate() -> Key {
            Key(
                name: Crypto.randomBytes(count: 16),
                hmacKey: Crypto.randomBytes(count: 32),
                aesKey: Crypto.randomBytes(count: 32),
                createdAt: .now
            )
        }
    }

    private struct Keys {
        var current: Key
        var previous: Key?
    }

    private let keys: Mutex<Keys>
    let rotationInterval: Duration

    init(rotationInterval: Duration) {
        self.rotationInterval = rotationInterval
        self.keys = Mutex(Keys(current: .generate(), previous: nil))
    }

    /// The key to seal a new ticket with, rotating first when the current key has aged out.
    func sealingKey(now: ContinuousClock.Instant = .now) -> Key {
        self.keys.withLock { keys in
            if now - keys.current.createdAt >= self.rotationInterval {
                keys.previous = keys.current
                keys.current = .generate()
            }
            return keys.current
        }
    }

    /// The key named `name`, and whether the ticket should be renewed because that key is no longer current.
    func openingKey(named name: [UInt8]) -> (key: Key, renew: Bool)? {
        self.keys.withLock { keys in
            if keys.current.name == name { return (keys.current, false) }
            if let previous = keys.previous, previous.name == name { return (previous, true) }
            return nil
        }
    }

    /// Forces a rotation now (tests, and an operator who suspects a key leaked).
    func rotate() {
        self.keys.withLock { keys in
            keys.previous = keys.current
            keys.current = .generate()
        }
    }
}
