import ArgumentParser
import Foundation
import GatewayTLS

/// `gatewayctl certs init`: a local development CA and a server certificate for localhost.
struct CertsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "certs",
        abstract: "Development certificates.",
        subcommands: [Initialize.self]
    )

    struct Initialize: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "init",
            abstract: "Create a development CA (ca.pem, ca.key) and a localhost server certificate (server.pem, server.key)."
        )

        @Option(name: .long, help: "Directory to write into.")
        var dir: String = "certs"

        @Flag(name: .long, help: "Replace existing files.")
        var force = false

        func run() throws {
            do {
                let paths = try DevelopmentCertificates.create(in: self.dir, overwrite: self.force)
                for path in paths { print("wrote \(path)") }
                print("Clients trust \(self.dir)/\(DevelopmentCertificates.caCertificateFile); keys are mode 0600.")
            } catch let error as CocoaError where error.code == .fileWriteFileExists {
                let path = (error.userInfo[NSFilePathErrorKey] as? String) ?? self.dir
                throw ValidationError("\(path) exists; pass --force to replace the development certificates")
            }
        }
    }
}
