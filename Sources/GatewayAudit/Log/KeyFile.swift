import Foundation
import GatewayCrypto

/// A 32-byte secret kept in its own file (mode 0600), outside the directory it protects.
///
/// Contract: `loadOrCreate` returns the file's 32 bytes, creating the file with fresh OpenSSL random bytes when it
/// does not exist (exclusive create, so two starting processes cannot write different keys). A file of any other
/// size, or readable by group or others, is refused. The key is stored as 64 hex characters and a newline.
public struct KeyFile: Sendable {
    public let path: String
    public let bytes: [UInt8]
    /// A short public id for the key: the first 8 bytes of HMAC(key, "gateway-audit-key-id"), hex. Entries carry it
    /// so a verifier can tell "signed with another key" from "edited".
    public let keyID: String
    /// The key prepared once for HMAC-SHA256, so sealing a line does not set the key up again.
    let mac: HMACKey

    init(path: String, bytes: [UInt8]) {
        self.path = path
        self.bytes = bytes
        self.mac = HMACKey(bytes)
        self.keyID = Crypto.hex(self.mac.mac(Array("gateway-audit-key-id".utf8)).prefix(8))
    }

    /// Reads the key at `path`, or creates it (and its parent directory, 0700) when absent.
    public static func loadOrCreate(path: String) throws(AuditError) -> KeyFile {
        if let existing = try load(path: path, missingOK: true) { return existing }
        let parent = (path as NSString).deletingLastPathComponent
        if !parent.isEmpty {
            try? FileManager.default.createDirectory(
                atPath: parent, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700]
            )
        }
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if fd < 0 {
            if errno == EEXIST, let raced = try load(path: path, missingOK: false) { return raced }
            throw .keyFile(path: path, detail: "cannot create: \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        let key = Crypto.randomBytes(count: 32)
        let text = Array((Crypto.hex(key) + "\n").utf8)
        guard text.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) == text.count, fsync(fd) == 0 else {
            throw .keyFile(path: path, detail: "cannot write: \(String(cString: strerror(errno)))")
        }
        return KeyFile(path: path, bytes: key)
    }

    /// Reads an existing key; throws when it is missing (unless `missingOK`), malformed or too open.
    public static func load(path: String, missingOK: Bool = false) throws(AuditError) -> KeyFile? {
        var info = stat()
        if stat(path, &info) != 0 {
            if errno == ENOENT && missingOK { return nil }
            throw .keyFile(path: path, detail: String(cString: strerror(errno)))
        }
        guard info.st_mode & 0o077 == 0 else {
            throw .keyFile(path: path, detail: "mode \(String(info.st_mode & 0o777, radix: 8)); must be 0600")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .keyFile(path: path, detail: "unreadable")
        }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let bytes = hexBytes(text), bytes.count == 32 else {
            throw .keyFile(path: path, detail: "must hold 64 hex characters (a 32-byte key)")
        }
        return KeyFile(path: path, bytes: bytes)
    }

    /// Bytes of a hex string; nil when it is not hex of even length.
    static func hexBytes(_ text: String) -> [UInt8]? {
        let chars = Array(text.utf8)
        guard chars.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(chars.count / 2)
        var index = 0
        while index < chars.count {
            guard let high = nibble(chars[index]), let low = nibble(chars[index + 1]) else { return nil }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }

    private static func nibble(_ char: UInt8) -> UInt8? {
        switch char {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return char - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return char - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return char - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
