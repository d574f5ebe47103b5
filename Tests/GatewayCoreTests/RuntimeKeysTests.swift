import Foundation
import GatewayConfig
@testable import GatewayCore
import GatewayRules
import GatewayTLS
import Testing

/// What the runtime keeps across restarts: the fingerprint key, and the rule-set hash of the rules it loaded.
@Suite struct RuntimeKeysTests {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// A gateway configuration in a fresh directory (development certificates, the repository's rules and policy).
    func configuration() throws -> (GatewayConfiguration, URL) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("runtime-keys-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        _ = try DevelopmentCertificates.create(in: directory.appendingPathComponent("certs").path)
        let yaml = """
            listen: {address: 127.0.0.1, port: 0, tls: {certificate: certs/server.pem, key: certs/server.key}}
            admin: {address: 127.0.0.1, port: 0}
            providers:
              - {name: openai, base_url: https://127.0.0.1:9, paths: [/v1/chat/completions], credential: {header: Authorization, value: x}}
              - {name: anthropic, base_url: https://127.0.0.1:9, paths: [/v1/messages], credential: {header: x-api-key, value: y}}
            rules: {directory: \(Self.repositoryRoot.appendingPathComponent("rules").path)}
            policy: {file: \(Self.repositoryRoot.appendingPathComponent("policy.yaml").path)}
            keys: {file: var/keys.json}
            audit: {directory: var/audit}
            """
        let file = directory.appendingPathComponent("gateway.yaml")
        try yaml.write(to: file, atomically: true, encoding: .utf8)
        return (try ConfigLoader.load(path: file.path, environment: [:]), directory)
    }

    func inspector(_ runtime: GatewayRuntime) throws -> BodyInspector {
        try #require(runtime.pipeline.filters.compactMap { $0 as? ClassificationFilter }.first).inspector
    }

    @Test func theFingerprintKeyIsKeptAcrossRestartsAndTheRuleHashIsTheLoadedSets() async throws {
        let (configuration, directory) = try self.configuration()
        let first = try await GatewayRuntime.build(configuration: configuration)
        let fingerprint = try self.inspector(first).fingerprint(of: "jo@acme.com")
        await first.pipeline.audit?.close()
        let keyFile = directory.appendingPathComponent("var/keys/fingerprint.key").path
        #expect(FileManager.default.fileExists(atPath: keyFile))
        let attributes = try FileManager.default.attributesOfItem(atPath: keyFile)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)

        let second = try await GatewayRuntime.build(configuration: configuration)
        #expect(try self.inspector(second).fingerprint(of: "jo@acme.com") == fingerprint, "a restart changed fingerprints")
        // Records name the rules as loaded: the digest of exactly the files the rule set was compiled from.
        let loaded = try RuleLoader.load(directory: configuration.rules.directory.absolute)
        #expect(second.pipeline.audit?.ruleSetHash == loaded.sourceDigest)
        #expect(loaded.sourceDigest.count == 64)
        await second.pipeline.audit?.close()
    }
}
