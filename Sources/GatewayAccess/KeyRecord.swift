import Foundation

/// One gateway key as the keys file stores it: who holds it, which role it grants, and its digest. The key itself is
/// never stored.
public struct KeyRecord: Codable, Sendable, Hashable {
    public let id: String
    public let user: String
    public let role: String
    /// SHA-256 of the whole key, hex.
    public let digest: String
    public let created: Date
    public let expires: Date?
    public var revoked: Date?

    public init(id: String, user: String, role: String, digest: String, created: Date, expires: Date?, revoked: Date? = nil) {
        self.id = id
        self.user = user
        self.role = role
        self.digest = digest
        self.created = created
        self.expires = expires
        self.revoked = revoked
    }

    public func status(at now: Date) -> Status {
        if let revoked, revoked <= now { return .revoked }
        if let expires, expires <= now { return .expired }
        return .active
    }

    public enum Status: String, Sendable { case active, expired, revoked }
}

/// The keys file: `{"version": 1, "keys": [...]}`, written atomically with mode 0600.
public struct KeyFile: Codable, Sendable {
    public var version = 1
    public var keys: [KeyRecord] = []

    public init(keys: [KeyRecord] = []) { self.keys = keys }

    /// Reads `path`; a missing file is an empty key set (a fresh install).
    public static func load(path: String) throws -> KeyFile {
        guard FileManager.default.fileExists(atPath: path) else { return KeyFile() }
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return try decoder.decode(KeyFile.self, from: data)
    }

    /// Writes to a temporary file (mode 0600) in the same directory and renames it over `path`, so a running
    /// gateway never reads a half-written file and the keys never exist with wider permissions.
    public func save(path: String) throws {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        let temporary = directory + "/.\(url.lastPathComponent).\(UUID().uuidString)"
        guard FileManager.default.createFile(atPath: temporary, contents: nil, attributes: [.posixPermissions: 0o600]) else {
            throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: temporary])
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: temporary))
        try handle.write(contentsOf: try Self.encoder.encode(self))
        try handle.synchronize()
        try handle.close()
        guard rename(temporary, path) == 0 else {
            try? FileManager.default.removeItem(atPath: temporary)
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
    }

    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }()

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return encoder
    }()
}
