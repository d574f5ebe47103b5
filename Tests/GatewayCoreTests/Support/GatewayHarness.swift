import Foundation
import GatewayAccess
import GatewayAudit
import GatewayConfig
import GatewayCore
import GatewayTLS
import Logging
import NIOCore
import NIOPosix

/// The vendor keys the gateway holds (what the fake vendors must see, and the only credentials they may see).
enum VendorKeys {
    static let openAI = "Bearer sk-vendor-openai-0123456789"
    static let anthropic = "sk-ant-vendor-0123456789"
    static let wrongHost = "Bearer sk-vendor-wronghost-must-never-be-sent"
    static let other = "Bearer sk-vendor-other"
}

/// One gateway per test, in-process, with its fake vendors: everything is started here and stopped when the test's
/// body returns or throws, on 127.0.0.1 with ephemeral ports.
///
/// Routes (the provider names `openai` and `anthropic` are the ones the repository's policy.yaml refers to):
/// - `openai`     /v1/chat/completions, /v1/models → fake vendor
/// - `anthropic`  /v1/messages → fake vendor
/// - `refused`    /refused → a closed port (502)
/// - `wronghost`  /wronghost → the second fake vendor, whose certificate names only wrong.example (502)
/// - `slow`       /slow → fake vendor under /hang, which never answers; first byte timeout 1 s (504)
/// - `slow-anthropic` /slow-anthropic → the same, in Anthropic's error shape
/// - `silent`     /silent → a TCP listener that never answers the TLS handshake; tls_seconds 1 (504)
/// - `idle`       /idle → fake vendor under /idle; idle_seconds 1 (streams that stall are ended)
final class GatewayHarness: Sendable {
    struct Options: Sendable {
        var maxBodyBytes = 6 * 1024 * 1024
        var maxHeaderBytes = 8 * 1024
        var drainSeconds = 10
        var openAIPoolConnections = 16
        var anthropicPoolConnections = 64
        /// Makes the decision log's file operations fail on demand.
        var auditFaults: FaultInjector? = nil
        /// More `limits:` keys, one `key: value` a line (connection timeouts, caps, budgets).
        var extraLimits: [String] = []
        /// Copy `policy.yaml` and `rules/` into the gateway's directory (`policy.yaml`, `rules/`), so a test may
        /// change them and reload.
        var ownPolicyAndRules = false
    }

    let vendor: FakeVendor
    let wrongHostVendor: FakeVendor
    /// Accepts TCP and never answers the TLS handshake.
    let silentVendor: FakeVendor
    let server: GatewayServer
    let ports: GatewayServer.BoundPorts
    let client: TestClient
    let directory: URL
    let configuration: GatewayConfiguration
    /// A gateway key of role `engineer` (every provider and model, default category actions); the test client
    /// presents it unless a request says otherwise.
    let gatewayKey: String
    private let runTask: Task<Void, any Error>

    static var group: any EventLoopGroup { MultiThreadedEventLoopGroup.singleton }

    /// Starts vendors and gateway, runs `body` (bounded by `timeLimit`), then stops everything.
    static func run(
        _ options: Options = Options(), timeLimit: Duration = .seconds(30),
        _ body: @escaping @Sendable (GatewayHarness) async throws -> Void
    ) async throws {
        let harness = try await GatewayHarness.start(options)
        let outcome: Result<Void, any Error>
        do {
            try await withDeadline(timeLimit, "the test body") { try await body(harness) }
            outcome = .success(())
        } catch {
            outcome = .failure(error)
        }
        try await harness.stop()
        try outcome.get()
    }

    private init(
        vendor: FakeVendor, wrongHostVendor: FakeVendor, silentVendor: FakeVendor, server: GatewayServer, ports: GatewayServer.BoundPorts,
        client: TestClient, directory: URL, configuration: GatewayConfiguration, gatewayKey: String,
        runTask: Task<Void, any Error>
    ) {
        self.vendor = vendor
        self.wrongHostVendor = wrongHostVendor
        self.silentVendor = silentVendor
        self.server = server
        self.ports = ports
        self.client = client
        self.directory = directory
        self.configuration = configuration
        self.gatewayKey = gatewayKey
        self.runTask = runTask
    }

    private static func start(_ options: Options) async throws -> GatewayHarness {
        let pki = try CoreTestPKI.shared()
        let group = Self.group
        let vendor = try await FakeVendor.start(certificate: pki.vendor, pki: pki, group: group)
        let wrongHostVendor = try await FakeVendor.start(certificate: pki.wrongHostVendor, pki: pki, group: group)
        let silentVendor = try await FakeVendor.startSilent(group: group)
        let closedPort = try await Self.closedPort(group: group)

        let (directory, key) = try Self.prepareDirectory(name: "gateway-core-tests", user: "integration-test", pki: pki)
        func write(_ name: String, _ text: String) throws {
            try text.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        var rules = repositoryRoot.appendingPathComponent("rules").path
        var policy = repositoryRoot.appendingPathComponent("policy.yaml").path
        if options.ownPolicyAndRules {
            let fileManager = FileManager.default
            try fileManager.copyItem(atPath: rules, toPath: directory.appendingPathComponent("rules").path)
            try fileManager.copyItem(atPath: policy, toPath: directory.appendingPathComponent("policy.yaml").path)
            (rules, policy) = ("rules", "policy.yaml")
        }
        let yaml = """
            listen:
              address: 127.0.0.1
              port: 0
              tls: {certificate: listener.pem, key: listener.key, session_tickets: false}
            admin: {address: 127.0.0.1, port: 0}
            providers:
            \(HarnessProviders.yaml(
                .init(
                    vendor: "https://127.0.0.1:\(vendor.port)", wrongHost: "https://127.0.0.1:\(wrongHostVendor.port)",
                    refused: "https://127.0.0.1:\(closedPort)", silent: "https://127.0.0.1:\(silentVendor.port)"),
                openAIPool: options.openAIPoolConnections, anthropicPool: options.anthropicPoolConnections))
            limits:
              max_body_bytes: \(options.maxBodyBytes)
              max_header_bytes: \(options.maxHeaderBytes)
              inspection_deadline_ms: 20000
            \(options.extraLimits.map { "  " + $0 }.joined(separator: "\n"))
            shutdown: {drain_seconds: \(options.drainSeconds)}
            rules: {directory: \(rules)}
            policy: {file: \(policy)}
            keys: {file: var/keys.json}
            audit: {directory: var/audit}
            """
        try write("gateway.yaml", yaml)
        let configuration = try ConfigLoader.load(
            contents: yaml, path: directory.appendingPathComponent("gateway.yaml").path, environment: [:]
        )
        let runtime = try await GatewayRuntime.build(configuration: configuration, auditFaults: options.auditFaults)
        let server = GatewayServer(
            runtime: runtime, group: group, logger: Logger(label: "gateway-test", factory: { _ in SwiftLogNoOpLogHandler() })
        )
        let (bound, boundContinuation) = AsyncStream<GatewayServer.BoundPorts>.makeStream()
        let runTask = Task {
            defer { boundContinuation.finish() }
            try await server.run { ports in boundContinuation.yield(ports) }
        }
        var iterator = bound.makeAsyncIterator()
        guard let ports = await iterator.next() else {
            try await runTask.value
            throw HarnessError.notBound
        }
        let client = TestClient(
            port: ports.listener, tls: try pki.listenerClientContext(), group: group, gatewayKey: key.text
        )
        return GatewayHarness(
            vendor: vendor, wrongHostVendor: wrongHostVendor, silentVendor: silentVendor, server: server, ports: ports,
            client: client,
            directory: directory, configuration: configuration, gatewayKey: key.text, runTask: runTask
        )
    }

    /// A fresh temporary directory holding the listener's certificate and key (`listener.pem`, `listener.key`), the
    /// vendors' CA (`vendor-ca.pem`) and `var/keys.json` with one `engineer` key for `user`, which is returned.
    static func prepareDirectory(name: String, user: String, pki: CoreTestPKI) throws -> (URL, GatewayKey) {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("\(name)-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for (file, text) in [
            ("listener.pem", pki.listener.certificatePEM), ("listener.key", pki.listener.privateKeyPEM),
            ("vendor-ca.pem", pki.vendorAuthority.issued.certificatePEM),
        ] {
            try text.write(to: directory.appendingPathComponent(file), atomically: true, encoding: .utf8)
        }
        let key = GatewayKey.generate()
        try KeyFile(keys: [
            KeyRecord(id: key.id, user: user, role: "engineer", digest: key.digest, created: Date(), expires: nil)
        ]).save(path: directory.appendingPathComponent("var/keys.json").path)
        return (directory, key)
    }

    /// Shuts the gateway down and waits (bounded) for `run()` to return, then stops the vendors.
    func stop() async throws {
        self.server.shutdown()
        let runTask = self.runTask
        let result: Result<Void, any Error>
        do {
            try await withDeadline(.seconds(15), "GatewayServer.run() after shutdown()") { try await runTask.value }
            result = .success(())
        } catch {
            result = .failure(error)
        }
        await self.vendor.stop()
        await self.wrongHostVendor.stop()
        await self.silentVendor.stop()
        try? FileManager.default.removeItem(at: self.directory)
        try result.get()
    }

    /// Waits (bounded) for `run()` to return after a shutdown the test started itself.
    func waitForRunToReturn(within limit: Duration) async throws {
        let runTask = self.runTask
        try await withDeadline(limit, "GatewayServer.run() after shutdown()") { try await runTask.value }
    }

    /// A port nothing listens on: bound once to learn a free number, then closed.
    private static func closedPort(group: any EventLoopGroup) async throws -> Int {
        let channel = try await ServerBootstrap(group: group).bind(host: "127.0.0.1", port: 0).get()
        let port = channel.localAddress?.port ?? 1
        try await channel.close()
        return port
    }

    enum HarnessError: Error { case notBound }
}

/// A marker unique to one test, carried in the request so the vendor's records can be searched for it.
func makeMarker(_ name: String = "t") -> String { "\(name)-\(UUID().uuidString.prefix(12).lowercased())" }
