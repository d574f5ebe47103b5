import Foundation
import GatewayRules

/// Paths and shared fixtures for the rules tests.
enum TestSupport {
    /// The package root, found from this file's path (Tests/GatewayRulesTests/TestSupport.swift).
    static let packageRoot: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static let rulesDirectory = packageRoot.appendingPathComponent("rules").path
    static let corpusDirectory = packageRoot.appendingPathComponent("../shared/acceptance/corpus").standardized.path

    static let fingerprintKey = Array("test-fingerprint-key-0123456789ab".utf8)

    /// The default pack, loaded once for all tests.
    static let defaultRules: RuleSet = {
        do { return try RuleLoader.load(directory: rulesDirectory) } catch { fatalError("default rules: \(error)") }
    }()

    static let inspector = BodyInspector(rules: defaultRules, fingerprintKey: fingerprintKey)
}
