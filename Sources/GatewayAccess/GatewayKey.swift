import CZlib
import GatewayCrypto

/// The gateway keys staff hold instead of vendor keys.
///
/// Format: `gwk_` + 10-character id + 32-character secret + 6-character checksum, all base62:
/// `gwk_` `7Hq2Lm0aZx` `…32 random…` `1a2B3c`. The fixed prefix lets secret scanners (ours included) recognise a
/// leaked key; the CRC32 checksum (as in GitHub's token format) lets the gateway refuse a mistyped or made-up key
/// without a lookup. The id is public (it names the key in lists and records); the secret carries 190 random bits
/// from OpenSSL's RNG. Only a SHA-256 digest of the whole key is ever stored.
public struct GatewayKey: Sendable, Hashable {
    public static let prefix = "gwk_"
    static let idLength = 10
    static let secretLength = 32
    static let checksumLength = 6
    public static let length = prefix.count + idLength + secretLength + checksumLength

    /// The whole key, as shown once at creation.
    public let text: String
    /// The public id.
    public let id: String

    /// Why a presented string is not a well-formed gateway key.
    public enum FormatError: Error, Sendable, Hashable {
        case wrongPrefix, wrongLength, invalidCharacter, checksumMismatch
    }

    /// Parses and checks a presented key without any lookup.
    public init(parsing text: String) throws(FormatError) {
        let bytes = Array(text.utf8)
        guard text.hasPrefix(Self.prefix) else { throw .wrongPrefix }
        guard bytes.count == Self.length else { throw .wrongLength }
        guard bytes.dropFirst(Self.prefix.count).allSatisfy(Base62.isDigit) else { throw .invalidCharacter }
        let bodyEnd = Self.length - Self.checksumLength
        let expected = Base62.encode(Self.checksum(bytes[0..<bodyEnd]), width: Self.checksumLength)
        guard Crypto.constantTimeEquals(Array(expected.utf8), bytes[bodyEnd...]) else { throw .checksumMismatch }
        self.text = text
        self.id = String(decoding: bytes[Self.prefix.count..<(Self.prefix.count + Self.idLength)], as: UTF8.self)
    }

    /// A new random key.
    public static func generate() -> GatewayKey {
        let id = Base62.random(count: idLength)
        let secret = Base62.random(count: secretLength)
        let body = prefix + id + secret
        let text = body + Base62.encode(checksum(Array(body.utf8)[...]), width: checksumLength)
        return try! GatewayKey(parsing: text)  // constructed well-formed
    }

    /// The digest stored in the keys file: SHA-256 of the whole key, hex.
    public var digest: String { Crypto.hex(Crypto.sha256(Array(self.text.utf8))) }

    static func checksum(_ bytes: ArraySlice<UInt8>) -> UInt64 {
        let value = bytes.withUnsafeBufferPointer { buffer in
            crc32(0, buffer.baseAddress, UInt32(buffer.count))
        }
        return UInt64(value)
    }
}

/// Base62 digits `0-9A-Za-z`.
enum Base62 {
    static let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)

    static func isDigit(_ byte: UInt8) -> Bool {
        (byte >= 48 && byte <= 57) || (byte >= 65 && byte <= 90) || (byte >= 97 && byte <= 122)
    }

    /// `count` uniformly random digits (rejection sampling over OpenSSL's RNG: no modulo bias).
    static func random(count: Int) -> String {
        var digits: [UInt8] = []
        while digits.count < count {
            for byte in Crypto.randomBytes(count: count * 2) where byte < 248 && digits.count < count {
                digits.append(alphabet[Int(byte % 62)])
            }
        }
        return String(decoding: digits, as: UTF8.self)
    }

    static func encode(_ value: UInt64, width: Int) -> String {
        var value = value
        var digits = [UInt8](repeating: alphabet[0], count: width)
        for index in stride(from: width - 1, through: 0, by: -1) {
            digits[index] = alphabet[Int(value % 62)]
            value /= 62
        }
        return String(decoding: digits, as: UTF8.self)
    }
}
