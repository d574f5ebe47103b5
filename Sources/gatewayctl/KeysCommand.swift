import ArgumentParser
import Foundation
import GatewayAccess
import GatewayConfig

/// `gatewayctl keys create|list|revoke|rotate`: gateway keys, stored as digests in the keys file. A running gateway
/// picks up every change within a second.
struct KeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Create, list, revoke and rotate gateway keys.",
        subcommands: [Create.self, List.self, Revoke.self, Rotate.self]
    )

    struct Options: ParsableArguments {
        @Option(name: .long, help: "The gateway configuration (it names the keys file and the roles).")
        var config: String = ConfigLoader.defaultPath

        func load() throws -> (configuration: GatewayConfiguration, path: String) {
            do {
                let configuration = try ConfigLoader.load(path: self.config)
                return (configuration, configuration.keys.file.absolute)
            } catch {
                FileHandle.standardError.write(Data("\(error)\n".utf8))
                throw ExitCode(78)
            }
        }
    }

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a key; it is printed once and never stored.")
        @OptionGroup var options: Options
        @Option(name: .long, help: "Who holds the key.") var user: String
        @Option(name: .long, help: "The role it grants (a role in the policy file).") var role: String
        @Option(name: .long, help: "Lifetime, e.g. 90d, 12h, 30m (default: no expiry).") var expires: String?
        @Flag(name: .long, help: "Print JSON.") var json = false

        func run() throws {
            let (configuration, path) = try self.options.load()
            guard configuration.rolePolicy.role(named: self.role) != nil else {
                let roles = configuration.rolePolicy.roles.keys.sorted().joined(separator: ", ")
                throw ValidationError("role '\(self.role)' is not in \(configuration.policy.file) (roles: \(roles))")
            }
            let lifetime = try self.expires.map(KeysCommand.parseDuration)
            let (key, record) = try KeysCommand.addKey(user: self.user, role: self.role, lifetime: lifetime, path: path)
            KeysCommand.printCreated(key: key, record: record, json: self.json)
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List keys (ids, holders, roles, status).")
        @OptionGroup var options: Options
        @Flag(name: .long, help: "Print JSON.") var json = false

        func run() throws {
            let (_, path) = try self.options.load()
            let file = try KeyFile.load(path: path)
            let now = Date()
            if self.json {
                for record in file.keys {
                    let line: [String: String] = [
                        "id": record.id, "user": record.user, "role": record.role,
                        "status": record.status(at: now).rawValue, "created": KeysCommand.format(record.created),
                        "expires": record.expires.map(KeysCommand.format) ?? "",
                    ]
                    let data = try JSONSerialization.data(withJSONObject: line, options: [.sortedKeys])
                    print(String(decoding: data, as: UTF8.self))
                }
                return
            }
            print("ID          USER                 ROLE         STATUS   CREATED               EXPIRES")
            for record in file.keys {
                print(
                    [
                        record.id.padding(12), record.user.padding(21), record.role.padding(13),
                        record.status(at: now).rawValue.padding(9), KeysCommand.format(record.created).padding(22),
                        record.expires.map(KeysCommand.format) ?? "never",
                    ].joined()
                )
            }
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a key by id; effective within a second.")
        @OptionGroup var options: Options
        @Argument(help: "The key id (the 10 characters after gwk_).") var id: String

        func run() throws {
            let (_, path) = try self.options.load()
            try KeysCommand.revoke(id: self.id, path: path)
            print("revoked \(self.id)")
        }
    }

    struct Rotate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replace a key: a new key for the same holder, role and lifetime; the old one is revoked.")
        @OptionGroup var options: Options
        @Argument(help: "The key id to replace.") var id: String
        @Flag(name: .long, help: "Print JSON.") var json = false

        func run() throws {
            let (_, path) = try self.options.load()
            guard let old = try KeyFile.load(path: path).keys.first(where: { $0.id == self.id }) else {
                throw ValidationError("no key with id \(self.id)")
            }
            let lifetime = old.expires.map { $0.timeIntervalSince(old.created) }
            let (key, record) = try KeysCommand.addKey(user: old.user, role: old.role, lifetime: lifetime, path: path)
            try KeysCommand.revoke(id: old.id, path: path)
            KeysCommand.printCreated(key: key, record: record, json: self.json)
        }
    }

    // MARK: - Shared

    static func addKey(user: String, role: String, lifetime: TimeInterval?, path: String) throws -> (GatewayKey, KeyRecord) {
        var file = try KeyFile.load(path: path)
        let key = GatewayKey.generate()
        let now = Date()
        let record = KeyRecord(
            id: key.id, user: user, role: role, digest: key.digest, created: now,
            expires: lifetime.map { now.addingTimeInterval($0) }
        )
        file.keys.append(record)
        try file.save(path: path)
        return (key, record)
    }

    static func revoke(id: String, path: String) throws {
        var file = try KeyFile.load(path: path)
        guard let index = file.keys.firstIndex(where: { $0.id == id }) else { throw ValidationError("no key with id \(id)") }
        if file.keys[index].revoked == nil { file.keys[index].revoked = Date() }
        try file.save(path: path)
    }

    static func printCreated(key: GatewayKey, record: KeyRecord, json: Bool) {
        if json {
            let object: [String: String] = [
                "key": key.text, "id": record.id, "user": record.user, "role": record.role,
                "expires": record.expires.map(format) ?? "",
            ]
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(key.text)
            FileHandle.standardError.write(Data(
                "key \(record.id) for \(record.user) (role \(record.role)), expires \(record.expires.map(format) ?? "never"). It is shown only now.\n".utf8
            ))
        }
    }

    /// `90d`, `12h`, `30m`, `45s`.
    static func parseDuration(_ text: String) throws -> TimeInterval {
        let units: [Character: TimeInterval] = ["d": 86_400, "h": 3_600, "m": 60, "s": 1]
        guard let unit = text.last, let scale = units[unit], let value = Double(text.dropLast()), value > 0 else {
            throw ValidationError("'\(text)' is not a duration like 90d, 12h or 30m")
        }
        return value * scale
    }

    static func format(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().dateSeparator(.dash).time(includingFractionalSeconds: false))
    }
}

extension String {
    fileprivate func padding(_ width: Int) -> String {
        self.count >= width ? self + " " : self + String(repeating: " ", count: width - self.count)
    }
}
