import ArgumentParser
import Foundation
import GatewayConfig
import GatewayCore

/// `gatewayctl reload`: asks the running gateway, through its admin listener, to re-read its configuration.
struct ReloadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reload",
        abstract: "Make the running gateway re-read gateway.yaml, the policy and rules/ (as SIGHUP does).",
        discussion: """
            The new set is validated and compiled completely before it replaces the old one; requests in flight \
            finish under the set they started with. If it is invalid, the old set keeps serving and the problems \
            are listed as `config check` lists them. Settings that need a restart are named. Either way the \
            decision log gets a config_reloaded or config_reload_failed line. Exits 0 when applied, 1 when refused, \
            2 when the gateway cannot be reached.
            """)

    @Option(name: .long, help: "The configuration file, for the admin listener's address (default: \(ConfigLoader.defaultPath)).")
    var config: String = ConfigLoader.defaultPath

    func run() async throws {
        let settings: GatewayConfiguration
        do {
            settings = try ConfigLoader.load(path: self.config)
        } catch {
            for problem in error.problems { FileHandle.standardError.write(Data((problem.description + "\n").utf8)) }
            throw ExitCode(1)
        }
        let host = settings.admin.address == "0.0.0.0" ? "127.0.0.1" : settings.admin.address
        let response: AdminClient.Response
        do {
            response = try await AdminClient.send("POST", "/reload", host: host, port: settings.admin.port)
        } catch {
            FileHandle.standardError.write(Data("gatewayctl reload: \(error)\n".utf8))
            throw ExitCode(2)
        }
        guard let report = ReloadReport(json: response.body) else {
            FileHandle.standardError.write(Data("gatewayctl reload: unexpected answer (\(response.status)): \(response.body)\n".utf8))
            throw ExitCode(2)
        }
        print(report.description)
        if !report.applied { throw ExitCode(1) }
    }
}
