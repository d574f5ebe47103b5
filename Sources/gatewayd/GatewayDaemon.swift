import ArgumentParser
import Dispatch
import Foundation
import GatewayConfig
import GatewayCore
import GatewayTLS
import Logging
import NIOCore
import NIOPosix

/// Process entry: the event loops run Swift Concurrency too, so a request's tasks and its channels share threads
/// instead of handing work between two thread pools on every read and write.
@main
enum GatewayDaemonMain {
    static func main() {
        NIOSingletons.groupLoopCountSuggestion = CPUAffinity.usableCores()
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        Task {
            await GatewayDaemon.main()
            exit(0)
        }
        dispatchMain()
    }
}

/// `gatewayd`: loads and validates the whole configuration, builds everything expensive, then binds and serves
/// until SIGTERM or SIGINT, which start a graceful drain.
struct GatewayDaemon: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gatewayd",
        abstract: "The AI gateway: a TLS reverse proxy for the OpenAI and Anthropic APIs that inspects every request."
    )

    @Option(name: .long, help: "Configuration file.")
    var config: String = ConfigLoader.defaultPath

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error.")
    var logLevel: String = "info"

    func run() async throws {
        LoggingSystem.bootstrap(StreamLogHandler.standardError)
        var logger = Logger(label: "gatewayd")
        logger.logLevel = Logger.Level(rawValue: self.logLevel) ?? .info

        var configuration = try Self.loadConfiguration(self.config)
        if configuration.listen.tls.needsDevelopmentCertificates {
            try Self.createDevelopmentCertificates(for: configuration.listen.tls)
            configuration = try Self.loadConfiguration(self.config)
        }
        for warning in configuration.warnings { logger.warning("\(warning)") }

        let runtime: GatewayRuntime
        do {
            runtime = try await GatewayRuntime.build(configuration: configuration)
        } catch {
            Self.fail("gatewayd: cannot start:\n\(error)")
        }
        let loaded = configuration
        let log = logger
        let group = MultiThreadedEventLoopGroup.singleton
        let server = GatewayServer(runtime: runtime, group: group, logger: logger)
        let signals = Self.installSignalHandlers { signal in
            log.notice("received \(signal): draining for up to \(loaded.shutdown.drainSeconds) s")
            server.shutdown()
        }
        // SIGHUP re-reads gateway.yaml, the policy and rules/ (as `gatewayctl reload` does through the admin listener).
        let hangup = Self.installSignalHandler(SIGHUP) {
            Task {
                let report = await server.reload()
                if report.applied { log.notice("SIGHUP: \(report)") } else { log.error("SIGHUP: \(report)") }
            }
        }
        defer {
            signals.forEach { $0.cancel() }
            hangup.cancel()
        }
        try await server.run { ports in
            Self.printHowToCall(configuration: loaded, port: ports.listener, adminPort: ports.admin)
        }
    }

    private static func loadConfiguration(_ path: String) throws -> GatewayConfiguration {
        do {
            return try ConfigLoader.load(path: path)
        } catch {
            fail("gatewayd: the configuration is not valid; nothing was started.\n\(error)")
        }
    }

    /// First run on a fresh checkout: make a development CA and server certificate where the config expects them.
    private static func createDevelopmentCertificates(for tls: ListenerTLSSettings) throws {
        let directory = (tls.certificate.absolute as NSString).deletingLastPathComponent
        let expected = (
            (tls.certificate.absolute as NSString).lastPathComponent, (tls.key.absolute as NSString).lastPathComponent
        )
        guard expected == (DevelopmentCertificates.serverCertificateFile, DevelopmentCertificates.serverKeyFile),
            (tls.key.absolute as NSString).deletingLastPathComponent == directory
        else {
            fail("gatewayd: \(tls.certificate) does not exist. Point listen.tls at your certificate and key, "
                 + "or run `gatewayctl certs init --dir DIR` and use DIR/server.pem and DIR/server.key.")
        }
        let written = try DevelopmentCertificates.create(in: directory, overwrite: true)
        FileHandle.standardError.write(Data(
            "gatewayd: no listener certificate found; created a development CA and certificate:\n  \(written.joined(separator: "\n  "))\n".utf8
        ))
    }

    /// `gatewayctl` as the user can run it: the one beside this executable (a build directory is not on the PATH),
    /// else the bare name.
    private static func gatewayctlPath() -> String {
        let directory = (CommandLine.arguments[0] as NSString).deletingLastPathComponent
        let sibling = (directory as NSString).appendingPathComponent("gatewayctl")
        guard !directory.isEmpty, FileManager.default.isExecutableFile(atPath: sibling) else { return "gatewayctl" }
        let relative = sibling.hasPrefix(FileManager.default.currentDirectoryPath + "/")
            ? String(sibling.dropFirst(FileManager.default.currentDirectoryPath.count + 1)) : sibling
        return relative.contains("/") ? relative : "./" + relative
    }

    private static func printHowToCall(configuration: GatewayConfiguration, port: Int, adminPort: Int) {
        let host = configuration.listen.address.contains(":") ? "[\(configuration.listen.address)]" : configuration.listen.address
        let base = "https://\(host == "0.0.0.0" ? "localhost" : host):\(port)"
        let caFile = ((configuration.listen.tls.certificate.written as NSString).deletingLastPathComponent as NSString)
            .appendingPathComponent(DevelopmentCertificates.caCertificateFile)
        let gatewayctl = Self.gatewayctlPath()
        print("""
            AI gateway ready on \(base)  (admin: http://\(configuration.admin.address):\(adminPort)/metrics)
              a key for you:  export GATEWAY_KEY=$(\(gatewayctl) keys create --user $USER --role engineer)
              curl --cacert \(caFile) \(base)/v1/chat/completions -H "Authorization: Bearer $GATEWAY_KEY" \\
                   -H 'Content-Type: application/json' -d '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}'
              OpenAI SDK:    OpenAI(base_url="\(base)/v1", api_key=GATEWAY_KEY)       with SSL_CERT_FILE=\(caFile)
              Anthropic SDK: Anthropic(base_url="\(base)", api_key=GATEWAY_KEY)       with SSL_CERT_FILE=\(caFile)
            """)
        fflush(nil)  // all streams; supervisors and scripts wait for this line; a pipe would otherwise hold it back
    }

    private static func installSignalHandlers(_ handler: @escaping @Sendable (String) -> Void) -> [any DispatchSourceSignal] {
        [(SIGTERM, "SIGTERM"), (SIGINT, "SIGINT")].map { number, name in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { handler(name) }
            source.resume()
            return source
        }
    }

    private static func installSignalHandler(
        _ number: Int32, _ handler: @escaping @Sendable () -> Void
    ) -> any DispatchSourceSignal {
        signal(number, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
        source.setEventHandler { handler() }
        source.resume()
        return source
    }

    private static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data((message + "\n").utf8))
        Foundation.exit(78)  // EX_CONFIG
    }
}
