import Foundation

/// The development PKI that `gatewayctl certs init` and a first `gatewayd` run create: a local CA and a server
/// certificate for `localhost`, `127.0.0.1` and `::1`. Private keys are written with mode 0600.
public enum DevelopmentCertificates {
    /// The files, relative to the directory.
    public static let caCertificateFile = "ca.pem"
    public static let caKeyFile = "ca.key"
    public static let serverCertificateFile = "server.pem"
    public static let serverKeyFile = "server.key"

    /// Creates a fresh CA and server certificate in `directory` (created if needed, mode 0700).
    /// Existing files are replaced only when `overwrite` is true.
    /// - Returns: the paths written.
    @discardableResult
    public static func create(in directory: String, overwrite: Bool = false) throws -> [String] {
        let files = FileManager.default
        try files.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let paths = [caCertificateFile, caKeyFile, serverCertificateFile, serverKeyFile].map { "\(directory)/\($0)" }
        if !overwrite, let existing = paths.first(where: { files.fileExists(atPath: $0) }) {
            throw CocoaError(.fileWriteFileExists, userInfo: [NSFilePathErrorKey: existing])
        }
        let authority = try CertificateAuthority.create(commonName: "AI Gateway Development CA")
        let server = try authority.issue(
            commonName: "localhost", dnsNames: ["localhost"], ipAddresses: ["127.0.0.1", "::1"], usage: .server,
            notAfterOffset: 365 * 86_400 - 3_600  // Mozilla's intermediate profile wants leaf lifetimes under 366 days
        )
        try write(authority.issued.certificatePEM, to: paths[0], mode: 0o644)
        try write(authority.issued.privateKeyPEM, to: paths[1], mode: 0o600)
        try write(server.certificatePEM, to: paths[2], mode: 0o644)
        try write(server.privateKeyPEM, to: paths[3], mode: 0o600)
        return paths
    }

    /// Writes `text` so that the file never exists with wider permissions than `mode`.
    static func write(_ text: String, to path: String, mode: Int) throws {
        let files = FileManager.default
        if files.fileExists(atPath: path) { try files.removeItem(atPath: path) }
        guard files.createFile(atPath: path, contents: Data(), attributes: [.posixPermissions: mode]) else {
            throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path])
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.write(contentsOf: Data(text.utf8))
    }
}
