/// The whole validated gateway configuration: what `ConfigLoader.load` returns and everything `gatewayd`
/// needs before it binds. Immutable and `Sendable`, so one value can be shared by every event loop; a reload
/// produces a new value.
public struct GatewayConfiguration: Sendable {
    /// The configuration file itself.
    public let file: ConfiguredPath
    /// `listen:` — the TLS listener.
    public let listen: ListenerSettings
    /// `admin:` — the plain-HTTP admin listener.
    public let admin: AdminSettings
    /// `providers:` — upstream vendors in file order, at least one, names and path prefixes unique.
    public let providers: [ProviderSettings]
    /// `limits:` — size and time limits.
    public let limits: LimitSettings
    /// `shutdown:` — graceful shutdown.
    public let shutdown: ShutdownSettings
    /// `rules:` — where the rule pack is.
    public let rules: RulesSettings
    /// `policy:` — where the role policy is; its validated content is `rolePolicy`.
    public let policy: PolicySettings
    /// The role policy loaded from `policy.file` and validated against `providers`.
    public let rolePolicy: RolePolicy
    /// `keys:` — the gateway key store.
    public let keys: KeyStoreSettings
    /// `audit:` — where audit records go.
    public let audit: AuditSettings
    /// `documents:` — how uploaded documents are read, and their limits.
    public let documents: DocumentSettings
    /// Things that work but look unintended (e.g. an empty vendor credential); `gatewayd` logs them at start-up.
    /// Includes the policy file's warnings.
    public let warnings: [ConfigWarning]

    public init(
        file: ConfiguredPath, listen: ListenerSettings, admin: AdminSettings, providers: [ProviderSettings],
        limits: LimitSettings, shutdown: ShutdownSettings, rules: RulesSettings, policy: PolicySettings,
        rolePolicy: RolePolicy, keys: KeyStoreSettings, audit: AuditSettings, documents: DocumentSettings = .init(),
        warnings: [ConfigWarning]
    ) {
        self.documents = documents
        self.file = file
        self.listen = listen
        self.admin = admin
        self.providers = providers
        self.limits = limits
        self.shutdown = shutdown
        self.rules = rules
        self.policy = policy
        self.rolePolicy = rolePolicy
        self.keys = keys
        self.audit = audit
        self.warnings = warnings
    }

    public func provider(named name: String) -> ProviderSettings? {
        providers.first { $0.name == name }
    }

    /// The provider a request path is routed to, or nil (404). Prefixes overlap between providers only where one
    /// of the two has a `route_header` (the loader refuses other overlaps): then that provider serves requests
    /// carrying the header, the other the rest.
    /// - Parameter hasHeader: whether the request carries a header field (by lower-cased name).
    public func provider(forPath path: String, hasHeader: (String) -> Bool = { _ in false }) -> ProviderSettings? {
        var fallback: ProviderSettings?
        for provider in self.providers where provider.matches(path: path) {
            guard let header = provider.routeHeader else {
                fallback = fallback ?? provider
                continue
            }
            if hasHeader(header) { return provider }
            fallback = fallback ?? provider
        }
        return fallback
    }
}
