import COpenSSL
import Synchronization

/// The gateway's one crypto provider: every hash, MAC, cipher and random byte comes from the system OpenSSL, which
/// the operating system patches and which can run in FIPS mode. The only state kept is algorithms fetched once.
public enum Crypto {
    /// SHA-256 of `data`.
    public static func sha256(_ data: [UInt8]) -> [UInt8] {
        data.withUnsafeBytes { Self.sha256(bytes: $0) }
    }

    /// SHA-256 of `bytes` with the digest fetched once (`EVP_sha256()` would look the algorithm up on every call).
    public static func sha256(bytes input: UnsafeRawBufferPointer) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        let ok = digest.withUnsafeMutableBytes { output in
            EVP_Digest(input.baseAddress ?? UnsafeRawPointer(output.baseAddress!), input.count, output.baseAddress,
                       &length, FetchedDigest.sha256.pointer, nil)
        }
        precondition(ok == 1 && length == 32, "EVP_Digest(SHA-256) cannot fail on valid input: \(OpenSSLErrorStack.drain())")
        return digest
    }

    public static func sha256<Bytes: Collection>(_ data: Bytes) -> [UInt8] where Bytes.Element == UInt8 {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let ok = Array(data).withUnsafeBytes { input in
            digest.withUnsafeMutableBytes { output in
                EVP_Digest(input.baseAddress, input.count, output.baseAddress, &length, EVP_sha256(), nil)
            }
        }
        precondition(ok == 1, "EVP_Digest(SHA-256) cannot fail on valid input: \(OpenSSLErrorStack.drain())")
        return Array(digest.prefix(Int(length)))
    }

    /// HMAC-SHA-256 of `data` under `key`.
    public static func hmacSHA256<Key: Collection, Bytes: Collection>(key: Key, data: Bytes) -> [UInt8]
    where Key.Element == UInt8, Bytes.Element == UInt8 {
        var mac = [UInt8](repeating: 0, count: 32)
        var length = 0
        let result = Array(key).withUnsafeBytes { keyBytes in
            Array(data).withUnsafeBytes { input in
                mac.withUnsafeMutableBytes { output in
                    EVP_Q_mac(
                        nil, "HMAC", nil, "SHA256", nil,
                        keyBytes.baseAddress, keyBytes.count, input.baseAddress, input.count,
                        output.baseAddress, output.count, &length
                    )
                }
            }
        }
        precondition(result != nil && length == 32, "EVP_Q_mac(HMAC-SHA256) failed: \(OpenSSLErrorStack.drain())")
        return mac
    }

    /// `count` bytes from OpenSSL's CSPRNG.
    public static func randomBytes(count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let ok = bytes.withUnsafeMutableBytes { RAND_bytes($0.baseAddress, Int32($0.count)) }
        precondition(ok == 1, "RAND_bytes failed: \(OpenSSLErrorStack.drain())")
        return bytes
    }

    /// `count` random bytes (at most 4096) for identifiers: request and record ids.
    ///
    /// From the same CSPRNG as `randomBytes`, drawn 4 KiB at a time into a buffer shared under a lock, because one
    /// `RAND_bytes` call costs about 1.5 µs (OpenSSL 3's per-thread generator look-up, locking and fork check)
    /// whatever its length, and the proxy needs one or two ids per request. Bytes are handed out once and the
    /// buffer is overwritten as it is used up. Not for keys, nonces or tokens: those take `randomBytes`, so secret
    /// material never waits in a shared buffer. The gateway never forks; a forked child would share the buffer.
    public static func identifierBytes(count: Int) -> [UInt8] {
        precondition(count <= IdentifierRandom.capacity, "at most \(IdentifierRandom.capacity) identifier bytes at once")
        return Self.identifierRandom.withLock { $0.take(count) }
    }

    private static let identifierRandom = Mutex(IdentifierRandom())

    /// Compares two byte strings in time that depends only on their lengths.
    public static func constantTimeEquals<A: Collection, B: Collection>(_ lhs: A, _ rhs: B) -> Bool
    where A.Element == UInt8, B.Element == UInt8 {
        let left = Array(lhs)
        let right = Array(rhs)
        guard left.count == right.count else { return false }
        if left.isEmpty { return true }
        return left.withUnsafeBytes { l in
            right.withUnsafeBytes { r in CRYPTO_memcmp(l.baseAddress, r.baseAddress, l.count) == 0 }
        }
    }

    /// Appends the lower-case hexadecimal text of `bytes` to `output` (no intermediate string).
    @inlinable
    public static func appendHex<Bytes: Sequence>(_ bytes: Bytes, to output: inout [UInt8]) where Bytes.Element == UInt8 {
        let digits: StaticString = "0123456789abcdef"
        output.reserveCapacity(output.count + bytes.underestimatedCount * 2)
        digits.withUTF8Buffer { digits in
            for byte in bytes {
                output.append(digits[Int(byte >> 4)])
                output.append(digits[Int(byte & 0x0f)])
            }
        }
    }

    /// Lower-case hexadecimal text of `bytes`.
    @inlinable
    public static func hex<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        var out: [UInt8] = []
        Self.appendHex(bytes, to: &out)
        return String(decoding: out, as: UTF8.self)
    }
}

/// A message digest fetched from the default provider once for the process.
final class FetchedDigest: @unchecked Sendable {  // immutable after init; OpenSSL's EVP_MD is thread-safe
    static let sha256 = FetchedDigest("SHA256")
    let pointer: OpaquePointer

    private init(_ name: String) {
        guard let fetched = EVP_MD_fetch(nil, name, nil) else {
            preconditionFailure("EVP_MD_fetch(\(name)) failed: \(OpenSSLErrorStack.drain())")
        }
        self.pointer = fetched
    }
}

/// The buffer behind `Crypto.identifierBytes`: refilled from `RAND_bytes` when too little is left for a request.
private struct IdentifierRandom: ~Copyable {
    static let capacity = 4096
    private var bytes = [UInt8](repeating: 0, count: Self.capacity)
    private var next = Self.capacity  // empty: the first take fills it

    mutating func take(_ count: Int) -> [UInt8] {
        if Self.capacity - self.next < count {
            let ok = self.bytes.withUnsafeMutableBytes { RAND_bytes($0.baseAddress, Int32($0.count)) }
            precondition(ok == 1, "RAND_bytes failed: \(OpenSSLErrorStack.drain())")
            self.next = 0
        }
        defer { self.next += count }
        return Array(self.bytes[self.next..<(self.next + count)])
    }
}
