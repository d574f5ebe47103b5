import ArgumentParser

/// `gatewayctl`: the operator's tool. Each subcommand is a thin wrapper over a library call, so what it checks is
/// exactly what the daemon does.
@main
struct GatewayControl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gatewayctl",
        abstract: "Operate the AI gateway: configuration, certificates, gateway keys, classification rules.",
        subcommands: [
            ConfigCommand.self, ReloadCommand.self, CertsCommand.self, KeysCommand.self, RulesCommand.self, LogCommand.self,
            ReviewCommand.self, ReportCommand.self,
        ]
    )
}
