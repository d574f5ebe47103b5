import Foundation

/// Every path the audit features use, resolved in one place from the audit directory (the configuration's
/// `audit.directory`, default `var/audit`). With `var/audit`:
///
/// | What | Default |
/// |---|---|
/// | decision log segments | `var/audit/` |
/// | review log (reveal, release, deny) | `var/audit/review/` |
/// | audit key (outside the log) | `var/keys/audit.key` |
/// | quarantined bodies | `var/quarantine/` |
/// | quarantine key | `var/keys/quarantine.key` |
/// | fingerprint key (findings' keyed fingerprints) | `var/keys/fingerprint.key` |
/// | release ledger | `var/quarantine/releases.json` |
/// | sampled bodies (`review.sampling`) | `var/quarantine/samples/` |
public struct AuditLocation: Sendable, Hashable {
    public static let defaultDirectory = "var/audit"

    public var directory: String
    public var reviewDirectory: String
    public var keyFile: String
    public var quarantineDirectory: String
    public var quarantineKeyFile: String
    /// The key of findings' fingerprints: created once and kept, so the same value has the same fingerprint across
    /// restarts (and across replicas that share it).
    public var fingerprintKeyFile: String
    public var ledgerFile: String
    /// Forwarded bodies sampled for review, apart from held and blocked ones so the queue never lists them.
    public var samplesDirectory: String

    /// Derives every path from `directory`; each key file can be overridden.
    public init(directory: String = AuditLocation.defaultDirectory, keyFile: String? = nil, quarantineKeyFile: String? = nil) {
        let trimmed = directory.count > 1 && directory.hasSuffix("/") ? String(directory.dropLast()) : directory
        let parent = (trimmed as NSString).deletingLastPathComponent
        let base = parent.isEmpty ? "." : parent
        self.directory = trimmed
        self.reviewDirectory = trimmed + "/review"
        self.keyFile = keyFile ?? base + "/keys/audit.key"
        self.quarantineDirectory = base + "/quarantine"
        self.quarantineKeyFile = quarantineKeyFile ?? base + "/keys/quarantine.key"
        self.fingerprintKeyFile = base + "/keys/fingerprint.key"
        self.ledgerFile = base + "/quarantine/releases.json"
        self.samplesDirectory = base + "/quarantine/samples"
    }

    /// The review log's writer configuration (same key as the decision log).
    public var reviewLog: AuditLogConfiguration {
        AuditLogConfiguration(directory: self.reviewDirectory, keyFile: self.keyFile)
    }

    /// Whether `path` lies inside `directory` (a key there would be exposed to whoever can edit the log).
    static func isInside(_ path: String, _ directory: String) -> Bool {
        let file = URL(fileURLWithPath: path).standardizedFileURL.path
        let folder = URL(fileURLWithPath: directory).standardizedFileURL.path
        return file.hasPrefix(folder.hasSuffix("/") ? folder : folder + "/")
    }
}
