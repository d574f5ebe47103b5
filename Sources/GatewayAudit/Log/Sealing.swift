import Foundation
import GatewayCrypto

/// The one signed-JSON format of this module (log lines, the HEAD checkpoint): `C` is the value encoded as JSON with
/// sorted keys; the sealed form is `C` with `,"mac":"<hex HMAC-SHA256(key, C)>"` inserted before its final `}`.
/// The MAC covers the exact bytes, so verification never re-serialises.
enum Sealing {
    /// Length of the `,"mac":"…"}` suffix.
    static let suffixLength = 8 + 64 + 2
    private static let marker = Array(",\"mac\":\"".utf8)

    static func seal<T: Encodable>(_ value: T, key: [UInt8]) throws(AuditError) -> [UInt8] {
        Self.seal(canonical: try Self.encode(value), key: key)
    }

    /// `value` as JSON with sorted keys: the form `C` that is MACed.
    static func encode<T: Encodable>(_ value: T) throws(AuditError) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do { return Array(try encoder.encode(value)) } catch { throw .encoding("\(error)") }
    }

    /// Seals `canonical`, a JSON object's bytes.
    static func seal(canonical: consuming [UInt8], key: [UInt8]) -> [UInt8] {
        let mac = Crypto.hmacSHA256(key: key, data: canonical)
        return Self.seal(canonical: canonical, mac: mac)
    }

    /// Seals `canonical` with a prepared key (the log's hot path).
    static func seal(canonical: consuming [UInt8], key: HMACKey) -> [UInt8] {
        let mac = key.mac(canonical)
        return Self.seal(canonical: canonical, mac: mac)
    }

    /// Seals the JSON object written in `json` in place, with a reused MAC context (the log's hot path, on its I/O
    /// queue).
    static func seal(_ json: inout CanonicalJSON, mac: SerialHMAC) {
        let macBytes = json.withBytes { mac.mac($0) }
        let brace = json.removeLast()  // the closing brace; the MAC member goes before it
        assert(brace == UInt8(ascii: "}"))
        var suffix = Self.marker
        Crypto.appendHex(macBytes, to: &suffix)
        suffix.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: "}")])
        json.append(suffix)
    }

    private static func seal(canonical: consuming [UInt8], mac macBytes: [UInt8]) -> [UInt8] {
        var sealed = consume canonical  // taken over, not copied
        sealed.removeLast()  // the closing brace; the MAC member goes before it
        sealed.reserveCapacity(sealed.count + Self.suffixLength + 1)  // + the newline a log line gets
        sealed.append(contentsOf: Self.marker)
        Crypto.appendHex(macBytes, to: &sealed)
        sealed.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: "}")])
        return sealed
    }

    /// The signed bytes `C` and the MAC of a sealed text; nil when it does not end in a well-formed MAC member.
    static func split<Bytes: Collection<UInt8>>(_ sealed: Bytes) -> (canonical: [UInt8], mac: [UInt8])? {
        let bytes = Array(sealed)
        let count = bytes.count
        guard count > suffixLength + 1, bytes[count - 1] == UInt8(ascii: "}"), bytes[count - 2] == UInt8(ascii: "\""),
            Array(bytes[(count - suffixLength)..<(count - suffixLength + marker.count)]) == marker,
            let mac = KeyFile.hexBytes(String(decoding: bytes[(count - 66)..<(count - 2)], as: UTF8.self))
        else { return nil }
        return (Array(bytes.dropLast(suffixLength)) + [UInt8(ascii: "}")], mac)
    }

    static func authentic(canonical: [UInt8], mac: [UInt8], key: [UInt8]) -> Bool {
        Crypto.constantTimeEquals(Crypto.hmacSHA256(key: key, data: canonical), mac)
    }
}

/// The newest checkpoint, kept in `HEAD` in the log directory (replaced atomically) so a verifier can tell a
/// truncated tail from a short log. Copy it off the machine to also catch a rollback of the whole directory.
public struct HeadCheckpoint: Sendable, Hashable, Codable {
    public static let fileName = "HEAD"
    /// `seq` and SHA-256 of the checkpoint line it points at.
    public var seq: UInt64
    public var hash: String
    public var segment: Int
    public var time: String
    public var kid: String

    func write(directory: String, key: [UInt8]) throws(AuditError) {
        let sealed = try Sealing.seal(self, key: key)
        try FileOps.writeAtomically(sealed + [UInt8(ascii: "\n")], to: directory + "/" + Self.fileName)
    }

    /// Reads `HEAD`: nil when absent; `.failure` when present but malformed or not MACed by `key`.
    static func read(directory: String, key: [UInt8]) -> Result<HeadCheckpoint, HeadProblem>? {
        guard let bytes = FileOps.read(directory + "/" + fileName) else { return nil }
        let trimmed = bytes.last == UInt8(ascii: "\n") ? Array(bytes.dropLast()) : bytes
        guard let (canonical, mac) = Sealing.split(trimmed),
            let head = try? JSONDecoder().decode(HeadCheckpoint.self, from: Data(canonical))
        else { return .failure(.malformed) }
        guard Sealing.authentic(canonical: canonical, mac: mac, key: key) else { return .failure(.badMAC) }
        return .success(head)
    }

    enum HeadProblem: Error { case malformed, badMAC }
}
