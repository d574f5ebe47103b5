import Foundation

/// The one way a configuration is read, shared by `gatewayd` and `gatewayctl config check` so both accept and
/// refuse exactly the same files.
public enum ConfigLoader {
    /// Used when no `--config` is given, relative to the working directory.
    public static let defaultPath = "gateway.yaml"

    /// Reads, expands and validates the configuration at `path` and the policy file it names.
    ///
    /// - Parameters:
    ///   - path: the configuration file; relative paths are relative to the working directory. Messages name the
    ///     file as given here.
    ///   - environment: the variables `${NAME}` references resolve against.
    /// - Returns: a complete configuration; non-fatal findings are in `warnings`.
    /// - Throws: `ConfigError` with every problem found in both files (never only the first).
    public static func load(
        path: String = defaultPath, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ConfigError) -> GatewayConfiguration {
        let text = try readFile(path)
        return try load(contents: text, path: path, environment: environment)
    }

    /// Validates configuration text as if it had been read from `path` (used by tests and by callers that already
    /// hold the text). Relative paths inside it still resolve against `path`'s directory, and the files they name
    /// are still checked on disk.
    public static func load(
        contents: String, path: String, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ConfigError) -> GatewayConfiguration {
        let diagnostics = DiagnosticCollector()
        let expander = EnvironmentExpander(environment: environment)
        let file = ConfiguredPath(written: path, relativeTo: FileManager.default.currentDirectoryPath)
        let baseDirectory = URL(fileURLWithPath: file.absolute).deletingLastPathComponent().path
        let document = YAMLDocument(file: path, text: contents, expander: expander, diagnostics: diagnostics)
        let sections = ConfigurationDecoder(document: document, baseDirectory: baseDirectory).decode()

        var rolePolicy: RolePolicy?
        if let sections, sections.policy.file.exists {
            rolePolicy = PolicyLoader.decode(
                file: sections.policy.file, displayName: displayName(of: sections.policy.file, besides: path),
                providerNames: sections.providers.map { Set($0.map(\.name)) },
                maxBodyBytes: sections.limits.maxBodyBytes, expander: expander, diagnostics: diagnostics)
        }
        guard diagnostics.problems.isEmpty, let sections, let providers = sections.providers, let rolePolicy else {
            throw ConfigError(problems: diagnostics.problems, warnings: diagnostics.warnings)
        }
        // Roles that read images need Tesseract's language data; without it their images stay uninspectable.
        let readers = rolePolicy.roles.values.filter(\.readImages).map(\.name).sorted()
        let languageData = sections.documents.ocrDataDirectory + "/" + sections.documents.ocrLanguage + ".traineddata"
        if !readers.isEmpty, !FileManager.default.fileExists(atPath: languageData) {
            diagnostics.warning(
                path, ConfigKeyPath("documents.ocr_data"),
                "roles \(readers.joined(separator: ", ")) set ocr: true, but \(languageData) does not exist: their images "
                    + "cannot be read and are refused as uninspectable (install tesseract-ocr-\(sections.documents.ocrLanguage))")
        }
        return GatewayConfiguration(
            file: file, listen: sections.listen, admin: sections.admin, providers: providers, limits: sections.limits,
            shutdown: sections.shutdown, rules: sections.rules, policy: sections.policy, rolePolicy: rolePolicy,
            keys: sections.keys, audit: sections.audit, documents: sections.documents,
            warnings: diagnostics.warnings)
    }

    static func readFile(_ path: String) throws(ConfigError) -> String {
        do {
            return try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            let reason = FileManager.default.fileExists(atPath: path)
                ? "cannot be read as UTF-8 text"
                : "file not found (pass the configuration with --config FILE)"
            throw ConfigError(problems: [ConfigProblem(file: path, keyPath: .root, message: reason)])
        }
    }

    /// How a file named inside `configPath` is printed: next to the configuration as the operator named it, so
    /// `conf/gateway.yaml` naming `policy.yaml` prints `conf/policy.yaml`.
    static func displayName(of referenced: ConfiguredPath, besides configPath: String) -> String {
        if referenced.written.hasPrefix("/") { return referenced.written }
        let directory = (configPath as NSString).deletingLastPathComponent
        return directory.isEmpty ? referenced.written : directory + "/" + referenced.written
    }
}
