import Foundation
import GatewayAccess
import GatewayAudit
import GatewayConfig
import GatewayCrypto
import GatewayDocuments
import GatewayRules
import GatewayTLS
import NIOCore

/// Everything expensive, built once from a validated configuration before anything is bound: the listener's TLS
/// context, one client TLS context per provider, the compiled rules, the request phases.
public struct GatewayRuntime: Sendable {
    /// The configuration the gateway started with (listeners, pools and limits stay as it says until a restart).
    public let configuration: GatewayConfiguration
    let serverTLS: TLSContext
    let upstreamTLS: [String: TLSContext]
    /// The phases in force; a reload replaces them (`reload()`).
    public let live: LivePipeline
    /// The phases in force now.
    public var pipeline: RequestPipeline { self.live.current }
    public let metrics: GatewayMetrics
    /// The key findings' fingerprints are made with (kept for the rule sets a reload compiles).
    let fingerprintKey: [UInt8]
    /// Filters added after the built-in ones (tests), kept across reloads.
    let extraFilters: [any GatewayFilter]
    /// One reload at a time.
    let reloading = ReloadGate()
    /// The gateway keys in force; `GatewayServer` reloads it when the keys file changes.
    public let keys: KeyStore
    /// Uploads API parts held until their upload is completed; `GatewayServer` drops expired ones.
    let heldUploads: HeldUploads

    /// Why the runtime could not be built. Each names the file or provider at fault.
    public struct StartupError: Error, CustomStringConvertible {
        public let problems: [String]
        public var description: String { self.problems.joined(separator: "\n") }
    }

    /// - Parameters:
    ///   - extraFilters: filters that run after the built-in ones.
    ///   - auditFaults: makes the decision log's file operations fail on demand (tests and drills only).
    public static func build(
        configuration: GatewayConfiguration, extraFilters: [any GatewayFilter] = [],
        fingerprintKey: [UInt8]? = nil, auditFaults: FaultInjector? = nil
    ) async throws -> GatewayRuntime {
        var problems: [String] = []
        // Findings' fingerprints are keyed with a key kept beside the audit key (created on first start), so the
        // same value keeps its fingerprint across restarts; tests may pass their own.
        var fingerprintKey = fingerprintKey
        if fingerprintKey == nil {
            let path = AuditLocation(directory: configuration.audit.directory.absolute).fingerprintKeyFile
            do {
                fingerprintKey = try KeyFile.loadOrCreate(path: path).bytes
            } catch {
                problems.append("fingerprint key (\(path)): \(error)")
            }
        }
        let tls = configuration.listen.tls
        var serverTLS: TLSContext? = nil
        do {
            let clientCertificates: ClientCertificateMode =
                switch (tls.clientCA, tls.clientAuth) {
                case (nil, _), (_, .none): .none
                case (let ca?, .optional): .optional(trustRoots: .file(ca.absolute))
                case (let ca?, .required): .required(trustRoots: .file(ca.absolute))
                }
            serverTLS = try TLSContext.server(
                ServerTLSConfiguration(
                    certificateChain: .file(tls.certificate.absolute), privateKey: .file(tls.key.absolute),
                    clientCertificates: clientCertificates,
                    sessionResumption: tls.sessionTickets
                        ? .tickets(rotationIntervalSeconds: tls.ticketKeyRotationSeconds) : .disabled
                )
            )
        } catch {
            problems.append("listen.tls: \(error)")
        }
        var upstreamTLS: [String: TLSContext] = [:]
        for provider in configuration.providers where provider.baseURL.isTLS {
            do {
                let roots: TrustRoots = provider.caFile.map { .certificates(.file($0.absolute)) } ?? .system
                upstreamTLS[provider.name] = try TLSContext.client(ClientTLSConfiguration(trustRoots: roots))
            } catch {
                problems.append("providers[\(provider.name)].ca_file: \(error)")
            }
        }
        var inspector: BodyInspector? = nil
        do {
            inspector = try Self.makeInspector(configuration, limits: configuration.limits, fingerprintKey: fingerprintKey ?? [])
        } catch {
            problems.append("rules (\(configuration.rules.directory)): \(error)")
        }
        var keys: KeyStore? = nil
        do {
            keys = try KeyStore(path: configuration.keys.file.absolute)
        } catch {
            problems.append("keys.file (\(configuration.keys.file)): cannot read the keys file: \(error)")
        }
        let metrics = GatewayMetrics()
        var audit: AuditTrail? = nil
        if configuration.audit.enabled {
            do {
                audit = try await AuditTrail.open(
                    configuration: configuration, ruleSetHash: inspector?.rules.sourceDigest ?? "", faults: auditFaults,
                    metrics: metrics)
            } catch {
                problems.append("audit (\(configuration.audit.directory)): cannot open the decision log: \(error)")
            }
        }
        guard problems.isEmpty, let serverTLS, let inspector, let keys, audit != nil || !configuration.audit.enabled else {
            throw StartupError(problems: problems)
        }
        let heldUploads = HeldUploads(capacity: configuration.documents.maxHeldUploadBytes) { [metrics] in
            metrics.limits.hit(.heldUploads)
        }
        let pipeline = Self.makePipeline(
            configuration, running: configuration, inspector: inspector, keys: keys, heldUploads: heldUploads, metrics: metrics, audit: audit,
            extraFilters: extraFilters, mailboxes: nil
        )
        return GatewayRuntime(
            configuration: configuration, serverTLS: serverTLS, upstreamTLS: upstreamTLS, live: LivePipeline(pipeline),
            metrics: metrics, fingerprintKey: fingerprintKey ?? [], extraFilters: extraFilters, keys: keys,
            heldUploads: heldUploads
        )
    }

    /// The rule set under `rules.directory`, compiled, with the body limits (`limits` is the running gateway's:
    /// they change only at a restart) and the document limits.
    static func makeInspector(
        _ configuration: GatewayConfiguration, limits: LimitSettings, fingerprintKey: [UInt8]
    ) throws -> BodyInspector {
        let rules = try RuleLoader.load(
            directory: configuration.rules.directory.absolute, shadowDirectory: configuration.rules.shadowDirectory?.absolute)
        // The policy names rules the configuration cannot see; a misspelt one would never escalate anything.
        let known = Set(rules.rules.map(\.id) + (rules.shadow?.rules.map(\.id) ?? []))
        let unknown = configuration.rolePolicy.review.escalation.rules.subtracting(known).sorted()
        if !unknown.isEmpty { throw UnknownRules(path: "review.escalate.rules", ids: unknown) }
        return BodyInspector(
            rules: rules, fingerprintKey: fingerprintKey,
            limits: BodyLimits(
                maximumBodyBytes: limits.maxBodyBytes, maximumDecodedBytes: limits.maxDecompressedBytes,
                maximumCompressionRatio: limits.maxDecompressionRatio
            ),
            fieldNames: ["model"],
            documentLimits: Self.documentLimits(configuration.documents),
            imageReader: Self.imageReader(configuration.documents)
        )
    }

    /// The phases for `configuration`: router, access (keys and roles), classification (rules and per-role
    /// category treatment), then `extraFilters`. Limits and the authentication mode come from `running`, the
    /// configuration the gateway started with (they change only at a restart).
    static func makePipeline(
        _ configuration: GatewayConfiguration, running: GatewayConfiguration, inspector: BodyInspector, keys: KeyStore, heldUploads: HeldUploads,
        metrics: GatewayMetrics, audit: AuditTrail?, extraFilters: [any GatewayFilter], mailboxes: LoopMailboxes?
    ) -> RequestPipeline {
        let rolePolicies = configuration.rolePolicy.roles.mapValues { $0.categoryPolicy(base: .default) }
        let access = AccessFilter(
            keys: keys, policy: configuration.rolePolicy, mode: running.listen.authentication,
            limiter: RateLimiter()
        )
        var classification = ClassificationFilter(
            inspector: inspector, deadlineMilliseconds: running.limits.inspectionDeadlineMilliseconds,
            documentDeadlineMilliseconds: configuration.documents.inspectionDeadlineMilliseconds,
            policyForRequest: { context in
                // Deny by default: without a known role the strictest treatment applies.
                context.identity.flatMap { rolePolicies[$0.role] } ?? .default
            }
        )
        classification.heldUploads = heldUploads
        classification.shadowInspector = inspector.shadow
        classification.escalation = configuration.rolePolicy.review.escalation
        let review = configuration.rolePolicy.review
        let sampling: [any GatewayFilter] = review.sampling.isOff ? [] : [ReviewSampling(shares: review.sampling)]
        let identity = RuleSetIdentity(
            ruleSetHash: inspector.rules.sourceDigest,
            policyHash: AuditTrail.digest(ofFile: configuration.policy.file.absolute)
        )
        return RequestPipeline(
            configuration: configuration, filters: [access, classification] + sampling + [UsageMeter()] + extraFilters, metrics: metrics,
            audit: audit, identity: identity, mailboxes: mailboxes
        )
    }

    /// The `documents:` settings as the extractor's limits.
    static func documentLimits(_ settings: DocumentSettings) -> DocumentLimits {
        DocumentLimits(
            maximumPages: settings.maxPages, maximumDecompressedBytes: settings.maxDecompressedBytes,
            maximumCompressionRatio: settings.maxCompressionRatio, maximumArchiveMembers: settings.maxArchiveMembers,
            maximumNestingDepth: settings.maxNestingDepth, maximumTextBytes: settings.maxTextBytes,
            maximumImagePixels: settings.maxImagePixels)
    }

    /// Tesseract with the configured language data, or nil when the data is not installed (then every image is
    /// uninspectable, whatever a role's `ocr` says).
    static func imageReader(_ settings: DocumentSettings) -> (any ImageTextReader)? {
        let reader = TesseractReader(dataPath: settings.ocrDataDirectory, language: settings.ocrLanguage)
        return reader.isAvailable ? reader : nil
    }
}

/// Rule ids the policy names that the rule set does not have.
struct UnknownRules: Error, CustomStringConvertible {
    let path: String
    let ids: [String]
    var description: String { "\(self.path): no such rule: \(self.ids.joined(separator: ", "))" }
}
