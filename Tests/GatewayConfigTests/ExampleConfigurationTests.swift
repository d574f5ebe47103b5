import Foundation
import GatewayConfig
import Testing

@Suite struct ExampleConfigurationTests {
    /// The example from issue 3, which an external acceptance run writes verbatim.
    static let issueExample = """
        listen:   {address: 127.0.0.1, port: 8443,
                   tls: {certificate: certs/server.pem, key: certs/server.key, client_ca: certs/clients-ca.pem}}
        admin:    {address: 127.0.0.1, port: 9090}     # /healthz /readyz /metrics, plain HTTP, loopback by default
        providers:
          - name: openai
            base_url: https://api.openai.com
            paths: [/v1/chat/completions, /v1/responses, /v1/embeddings, /v1/models]
            credential: {header: Authorization, value: "Bearer ${OPENAI_API_KEY}"}
            ca_file: optional/extra-ca.pem             # trust this CA for this upstream instead of the system store
          - name: anthropic
            base_url: https://api.anthropic.com
            paths: [/v1/messages]
            credential: {header: x-api-key, value: "${ANTHROPIC_API_KEY}"}
        limits:   {max_body_bytes: 8388608, max_header_bytes: 16384, upstream_timeout_seconds: 600}
        """

    @Test func issueExampleDecodesExactly() throws {
        let fixture = try ConfigFixture(files: [
            "certs/server.pem", "certs/server.key", "certs/clients-ca.pem", "optional/extra-ca.pem",
        ])
        let configuration = try fixture.load(
            Self.issueExample, environment: ["OPENAI_API_KEY": "sk-openai", "ANTHROPIC_API_KEY": "sk-ant"])

        #expect(configuration.listen.address == "127.0.0.1")
        #expect(configuration.listen.port == 8443)
        #expect(configuration.listen.tls.certificate.written == "certs/server.pem")
        #expect(configuration.listen.tls.certificate.absolute == fixture.path("certs/server.pem"))
        #expect(configuration.listen.tls.key.absolute == fixture.path("certs/server.key"))
        #expect(configuration.listen.tls.clientCA?.absolute == fixture.path("certs/clients-ca.pem"))
        #expect(configuration.listen.tls.clientAuth == .optional)
        #expect(configuration.listen.tls.missingFiles.isEmpty)
        #expect(configuration.listen.authentication == .key)
        #expect(configuration.listen.forwardClientAddress == false)
        #expect(configuration.admin == AdminSettings(address: "127.0.0.1", port: 9090, allowRemote: false))

        #expect(configuration.providers.map(\.name) == ["openai", "anthropic"])
        let openai = try #require(configuration.provider(named: "openai"))
        #expect(openai.baseURL == UpstreamURL(scheme: "https", host: "api.openai.com", port: 443, basePath: ""))
        #expect(openai.pathPrefixes == ["/v1/chat/completions", "/v1/responses", "/v1/embeddings", "/v1/models"])
        #expect(openai.credential == ProviderCredential(header: "Authorization", value: "Bearer sk-openai"))
        #expect(openai.caFile?.written == "optional/extra-ca.pem")
        #expect(openai.caFile?.absolute == fixture.path("optional/extra-ca.pem"))
        #expect(openai.apiShape == .openai)
        #expect(openai.pool == ConnectionPoolSettings(maxConnections: 64, idleTimeoutSeconds: 60))
        #expect(openai.timeouts == UpstreamTimeouts(connectSeconds: 10, tlsSeconds: 10, firstByteSeconds: 600, idleSeconds: 300))

        let anthropic = try #require(configuration.provider(named: "anthropic"))
        #expect(anthropic.baseURL.host == "api.anthropic.com")
        #expect(anthropic.pathPrefixes == ["/v1/messages"])
        #expect(anthropic.credential == ProviderCredential(header: "x-api-key", value: "sk-ant"))
        #expect(anthropic.caFile == nil)
        #expect(anthropic.apiShape == .anthropic)

        #expect(configuration.limits == LimitSettings(maxBodyBytes: 8_388_608, maxHeaderBytes: 16_384, upstreamTimeoutSeconds: 600))
        #expect(configuration.shutdown.drainSeconds == 30)
        #expect(configuration.rules.directory.absolute == fixture.path("rules"))
        #expect(configuration.policy.file.absolute == fixture.path("policy.yaml"))
        #expect(configuration.keys.file.absolute == fixture.path("var/keys.json"))
        #expect(configuration.audit.directory.absolute == fixture.path("var/audit"))
        #expect(configuration.warnings.isEmpty)
        #expect(configuration.rolePolicy.role(named: "engineer") != nil)
    }

    @Test func issueExampleWithoutTheVariablesNamesBoth() throws {
        let fixture = try ConfigFixture(files: [
            "certs/server.pem", "certs/server.key", "certs/clients-ca.pem", "optional/extra-ca.pem",
        ])
        let problems = fixture.problems(Self.issueExample)
        #expect(problems.count == 2)
        #expect(problems.map(\.keyPath.description) == ["providers[0].credential.value", "providers[1].credential.value"])
        #expect(problems[0].message.contains("OPENAI_API_KEY"))
        #expect(problems[1].message.contains("ANTHROPIC_API_KEY"))
        #expect(!problems.contains { $0.message.contains("sk-") })
    }

    @Test func routingFollowsWholeSegments() throws {
        let fixture = try ConfigFixture(files: [
            "certs/server.pem", "certs/server.key", "certs/clients-ca.pem", "optional/extra-ca.pem",
        ])
        let configuration = try fixture.load(
            Self.issueExample, environment: ["OPENAI_API_KEY": "a", "ANTHROPIC_API_KEY": "b"])
        #expect(configuration.provider(forPath: "/v1/messages")?.name == "anthropic")
        #expect(configuration.provider(forPath: "/v1/messages/count_tokens?beta=true")?.name == "anthropic")
        #expect(configuration.provider(forPath: "/v1/models/gpt-4o")?.name == "openai")
        #expect(configuration.provider(forPath: "/v1/chat/completions?x=1")?.name == "openai")
        #expect(configuration.provider(forPath: "/v1/modelsX") == nil)
        #expect(configuration.provider(forPath: "/v2/messages") == nil)
    }

    /// The files shipped at the repository root must load on a fresh checkout with no variables set.
    @Test func shippedDefaultsLoadWithoutEnvironment() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let configPath = root.appendingPathComponent("gateway.yaml").path
        let configuration: GatewayConfiguration
        do {
            configuration = try ConfigLoader.load(path: configPath, environment: [:])
        } catch {
            Issue.record("shipped gateway.yaml does not load:\n\(error)")
            return
        }
        #expect(configuration.listen.port == 8443)
        #expect(configuration.admin.port == 9090)
        #expect(configuration.provider(named: "openai")?.baseURL.host == "api.openai.com")
        #expect(configuration.provider(named: "anthropic")?.baseURL.host == "api.anthropic.com")
        let credentialWarnings = configuration.warnings.filter { $0.keyPath.description.hasSuffix("credential.value") }
        #expect(credentialWarnings.count == 2)
        #expect(credentialWarnings.first?.message.contains("OPENAI_API_KEY") == true)
        #expect(credentialWarnings.last?.message.contains("ANTHROPIC_API_KEY") == true)
        let engineer = try #require(configuration.rolePolicy.role(named: "engineer"))
        #expect(engineer.allows(provider: "openai") && engineer.allows(provider: "anthropic"))
        #expect(engineer.action(forCategory: "secret", defaultAction: .redact) == .block)
        #expect(engineer.action(forCategory: "pii", defaultAction: .redact) == .redact)
        // Uninspectable uploads are refused by default; the engineer role reads images with OCR.
        #expect(engineer.readImages && !engineer.binaryUploads)
        // /v1/files is shared: Anthropic's SDK requests (with anthropic-version) go to Anthropic, the rest to OpenAI.
        #expect(configuration.provider(forPath: "/v1/files")?.name == "openai")
        #expect(configuration.provider(forPath: "/v1/files", hasHeader: { $0 == "anthropic-version" })?.name == "anthropic")
        #expect(configuration.provider(forPath: "/v1/messages")?.name == "anthropic")
        #expect(configuration.documents == DocumentSettings())
        let analyst = try #require(configuration.rolePolicy.role(named: "analyst"))
        #expect(!analyst.allows(provider: "anthropic"))
        let restricted = try #require(configuration.rolePolicy.role(named: "restricted"))
        #expect(restricted.action(forCategory: "pii", defaultAction: .redact) == .block)
        #expect(!restricted.allows(model: "gpt-4o"))
        #expect(restricted.allows(model: "gpt-4o-mini-2024-07-18"))

        // With the variables set, the values arrive and the warnings go away.
        let withKeys = try ConfigLoader.load(
            path: configPath, environment: ["OPENAI_API_KEY": "sk-1", "ANTHROPIC_API_KEY": "sk-2"])
        #expect(withKeys.provider(named: "openai")?.credential.value == "Bearer sk-1")
        #expect(withKeys.warnings.isEmpty)
    }
}
