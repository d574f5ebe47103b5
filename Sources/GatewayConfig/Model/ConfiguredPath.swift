import Foundation

/// A file or directory named in a configuration file. Relative paths are relative to the directory of the file
/// that names them (not the working directory), so `gatewayd --config /etc/gateway/gateway.yaml` finds
/// `certs/server.pem` next to it.
public struct ConfiguredPath: Sendable, Hashable, CustomStringConvertible {
    /// The path exactly as written (after `${NAME}` expansion), for messages.
    public let written: String
    /// The absolute, standardised path to open.
    public let absolute: String

    public init(written: String, relativeTo baseDirectory: String) {
        self.written = written
        let url = written.hasPrefix("/")
            ? URL(fileURLWithPath: written)
            : URL(fileURLWithPath: baseDirectory, isDirectory: true).appendingPathComponent(written)
        self.absolute = url.standardizedFileURL.path
    }

    public var description: String { written }

    /// Whether something exists at the path now (a snapshot: callers that open the file must still handle errors).
    public var exists: Bool { FileManager.default.fileExists(atPath: absolute) }

    /// Whether a directory exists at the path now.
    public var isDirectory: Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: absolute, isDirectory: &isDirectory) && isDirectory.boolValue
    }
}
