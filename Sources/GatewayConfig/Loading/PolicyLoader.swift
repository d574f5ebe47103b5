import Foundation

/// Reads and validates a role policy file on its own, e.g. to reload it while the gateway runs. Loading a
/// configuration already loads its policy; this is for re-reading the policy against an existing configuration.
public enum PolicyLoader {
    /// Reloads `configuration.policy.file`, cross-checked against `configuration.providers` and limits.
    /// - Throws: `ConfigError` with every problem in the policy file.
    public static func load(
        for configuration: GatewayConfiguration, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ConfigError) -> RolePolicy {
        let file = configuration.policy.file
        let displayName = ConfigLoader.displayName(of: file, besides: configuration.file.written)
        let diagnostics = DiagnosticCollector()
        let text: String
        do {
            text = try ConfigLoader.readFile(file.absolute)
        } catch {
            throw ConfigError(problems: error.problems.map {
                ConfigProblem(file: displayName, keyPath: $0.keyPath, message: $0.message)
            })
        }
        let policy = decode(
            text: text, file: file, displayName: displayName,
            providerNames: Set(configuration.providers.map(\.name)), maxBodyBytes: configuration.limits.maxBodyBytes,
            expander: EnvironmentExpander(environment: environment), diagnostics: diagnostics)
        guard diagnostics.problems.isEmpty, let policy else {
            throw ConfigError(problems: diagnostics.problems, warnings: diagnostics.warnings)
        }
        return policy
    }

    /// Reads the policy from disk, collecting problems into `diagnostics`.
    static func decode(
        file: ConfiguredPath, displayName: String, providerNames: Set<String>?, maxBodyBytes: Int,
        expander: EnvironmentExpander, diagnostics: DiagnosticCollector
    ) -> RolePolicy? {
        guard let text = try? String(contentsOfFile: file.absolute, encoding: .utf8) else {
            diagnostics.problem(displayName, .root, "cannot be read as UTF-8 text")
            return nil
        }
        return decode(
            text: text, file: file, displayName: displayName, providerNames: providerNames,
            maxBodyBytes: maxBodyBytes, expander: expander, diagnostics: diagnostics)
    }

    static func decode(
        text: String, file: ConfiguredPath, displayName: String, providerNames: Set<String>?, maxBodyBytes: Int,
        expander: EnvironmentExpander, diagnostics: DiagnosticCollector
    ) -> RolePolicy? {
        let document = YAMLDocument(file: displayName, text: text, expander: expander, diagnostics: diagnostics)
        return PolicyDecoder(
            document: document, file: file, providerNames: providerNames, globalMaxBodyBytes: maxBodyBytes
        ).decode()
    }
}
