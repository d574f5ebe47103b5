import ArgumentParser
import Foundation
import GatewayConfig

/// `gatewayctl config …`: configuration tooling.
struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Validate the gateway configuration.",
        subcommands: [Check.self])

    /// `gatewayctl config check [FILE] [--config FILE]`: the same loader and validation as `gatewayd` start-up.
    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a configuration file and the policy it names; list every problem.",
            discussion: "Exits 0 and prints a summary when the configuration is valid, 1 after listing problems.")

        @Argument(help: "The configuration file (default: \(ConfigLoader.defaultPath)).")
        var file: String?

        @Option(name: .long, help: "The configuration file; the same as the FILE argument.")
        var config: String?

        func validate() throws {
            if let file, let config, file != config {
                throw ValidationError("give the configuration file either as FILE or with --config, not both")
            }
        }

        func run() throws {
            let path = file ?? config ?? ConfigLoader.defaultPath
            do {
                let configuration = try ConfigLoader.load(path: path)
                for warning in configuration.warnings { printToStandardError(warning.description) }
                print("\(path): OK")
                for line in configuration.summary { print("  " + line) }
            } catch {
                for problem in error.problems { printToStandardError(problem.description) }
                for warning in error.warnings { printToStandardError(warning.description) }
                let count = error.problems.count
                printToStandardError("\(path): \(count) problem\(count == 1 ? "" : "s")")
                throw ExitCode.failure
            }
        }
    }
}

private func printToStandardError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
