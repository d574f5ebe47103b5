// Where the files the gateway reads and writes live. These four settings share a file because each is a single
// path; every path is relative to the configuration file's directory.

/// `rules:` — the classification rule pack.
public struct RulesSettings: Sendable, Hashable {
    /// `rules.directory`, default `rules`: every `*.yaml` in it is a rule file. Must exist.
    public let directory: ConfiguredPath
    public static let defaultDirectory = "rules"
    /// `rules.shadow_directory`, optional (e.g. `rules.shadow`): a candidate rule set. Its rules run beside the live
    /// ones on real traffic, in shadow mode (recorded, no effect), so a change can be measured before it is enforced.
    /// Must exist when set; may hold no files.
    public let shadowDirectory: ConfiguredPath?

    public init(directory: ConfiguredPath, shadowDirectory: ConfiguredPath? = nil) {
        self.directory = directory
        self.shadowDirectory = shadowDirectory
    }
}

/// `policy:` — the role policy file, loaded and validated together with this configuration.
public struct PolicySettings: Sendable, Hashable {
    /// `policy.file`, default `policy.yaml`. Must exist.
    public let file: ConfiguredPath
    public static let defaultFile = "policy.yaml"

    public init(file: ConfiguredPath) { self.file = file }
}

/// `keys:` — the gateway key store written by `gatewayctl keys`.
public struct KeyStoreSettings: Sendable, Hashable {
    /// `keys.file`, default `var/keys.json`. May be missing: no keys have been created yet.
    public let file: ConfiguredPath
    public static let defaultFile = "var/keys.json"

    public init(file: ConfiguredPath) { self.file = file }
}

/// `audit:` — where audit records are written.
public struct AuditSettings: Sendable, Hashable {
    /// `audit.directory`, default `var/audit`. Created by `gatewayd` when missing.
    public let directory: ConfiguredPath
    public static let defaultDirectory = "var/audit"
    /// `audit.enabled`, default `true`. `false` turns decision records off entirely: only for measuring what they
    /// cost (`bench/proxy-bench --audit-off`); `gatewayd` warns loudly at start-up when they are off.
    public let enabled: Bool
    /// `audit.sync: interval` with `audit.interval_ms` (nil: `sync: always`, the default). Always: a forwarded
    /// request waits until its record is written and fsynced. Interval: it waits until the record is written, and
    /// the log fsyncs within this many milliseconds; a record then survives the gateway crashing, not a power loss
    /// within the window.
    public let syncIntervalMilliseconds: Int?

    public init(directory: ConfiguredPath, enabled: Bool = true, syncIntervalMilliseconds: Int? = nil) {
        self.directory = directory
        self.enabled = enabled
        self.syncIntervalMilliseconds = syncIntervalMilliseconds
    }
}
