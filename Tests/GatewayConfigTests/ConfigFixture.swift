import Foundation
import GatewayConfig

/// A throw-away directory holding a configuration, the policy it names and the files they reference, so tests
/// exercise relative-path resolution and on-disk checks exactly as `gatewayd` would.
final class ConfigFixture {
    let directory: URL

    /// A policy valid for the providers `openai` and `anthropic`.
    static let basicPolicy = """
        roles:
          engineer: {providers: "*", models: "*"}
        """

    init(policy: String = ConfigFixture.basicPolicy, files: [String] = ["certs/server.pem", "certs/server.key"]) throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("gateway-config-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(
            at: directory.appendingPathComponent("rules"), withIntermediateDirectories: true)
        try write("policy.yaml", policy)
        for file in files { try write(file, "placeholder\n") }
    }

    deinit {
        try? FileManager.default.removeItem(at: directory)
    }

    func write(_ relativePath: String, _ text: String) throws {
        let url = directory.appendingPathComponent(relativePath)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: true, encoding: .utf8)
    }

    func path(_ relativePath: String) -> String {
        directory.appendingPathComponent(relativePath).standardizedFileURL.path
    }

    /// Writes `yaml` as gateway.yaml and loads it through the public loader.
    func load(_ yaml: String, environment: [String: String] = [:]) throws(ConfigError) -> GatewayConfiguration {
        do {
            try write("gateway.yaml", yaml)
        } catch {
            fatalError("cannot write fixture: \(error)")
        }
        return try ConfigLoader.load(path: path("gateway.yaml"), environment: environment)
    }

    /// The problems loading `yaml` reports; empty when it loads.
    func problems(_ yaml: String, environment: [String: String] = [:]) -> [ConfigProblem] {
        do {
            _ = try load(yaml, environment: environment)
            return []
        } catch {
            return error.problems
        }
    }

    /// The key paths of `problems`, printed.
    func problemPaths(_ yaml: String, environment: [String: String] = [:]) -> [String] {
        problems(yaml, environment: environment).map(\.keyPath.description)
    }
}

/// A minimal valid provider list for tests that are about something else.
let minimalProviders = """
    providers:
      - name: openai
        base_url: https://api.openai.com
        paths: [/v1/chat/completions]
        credential: {header: Authorization, value: "Bearer sk-test"}
    """
