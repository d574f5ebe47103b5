import ArgumentParser
import Foundation
import GatewayAudit
import GatewayConfig

/// `gatewayctl log [list] | show ID [--reveal] | verify`: read, reveal and verify the decision log.
struct LogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "Show decision records, reveal quarantined bodies, verify the log's integrity.",
        subcommands: [List.self, Show.self, Verify.self],
        defaultSubcommand: List.self
    )

    /// Where the audit files are; the one place paths are resolved (`AuditLocation`).
    struct Location: ParsableArguments {
        @Option(name: .long, help: "The gateway configuration; its audit.directory is used unless --dir is given.")
        var config: String?
        @Option(name: .long, help: "The audit directory (default: audit.directory of --config, else var/audit).")
        var dir: String?
        @Option(name: .long, help: "The audit key file (default: <dir>/../keys/audit.key).") var keyFile: String?
        @Option(name: .long, help: "The quarantine key file (default: <dir>/../keys/quarantine.key).")
        var quarantineKeyFile: String?

        var resolved: AuditLocation {
            AuditLocation(directory: self.directory, keyFile: self.keyFile, quarantineKeyFile: self.quarantineKeyFile)
        }

        /// --dir, else the configuration's audit directory (when --config is given or gateway.yaml is here).
        private var directory: String {
            if let dir { return dir }
            let path = self.config ?? ConfigLoader.defaultPath
            if self.config != nil || FileManager.default.fileExists(atPath: path),
                let configuration = try? ConfigLoader.load(path: path)
            {
                return configuration.audit.directory.absolute
            }
            return AuditLocation.defaultDirectory
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "A table of recent records.")
        @OptionGroup var location: Location
        @Option(name: .long, help: "allow, redact, block, review, refused, error, released, uninspected (repeatable).") var decision: [String] = []
        @Option(name: .long) var user: String?
        @Option(name: .long) var role: String?
        @Option(name: .long, help: "A rule id found in the body.") var rule: String?
        @Option(name: .long, help: "A finding category (secret, personal, payment, …).") var category: String?
        @Option(name: .long, help: "Records newer than this: 24h, 30m, 7d, or a UTC time.") var since: String?
        @Option(name: .long, help: "Records older than this (same forms).") var until: String?
        @Option(name: .long, help: "At most this many (the newest).") var limit: Int = 50
        @Flag(name: .long, help: "Keep printing new records as they are written.") var follow = false
        @Flag(name: .long, help: "One JSON record per line (for jq or a SIEM shipper).") var json = false
        @Flag(name: .long, help: "Full record ids and columns, nothing cut.") var wide = false

        func run() throws {
            let filter = try self.makeFilter()
            let location = self.location.resolved
            var seen = Set<RecordID>()
            let views = AuditReader.views(location: location).filter { filter.matches($0.record) }
            if !self.json { print(LogTable.header(wide: self.wide)) }
            for view in views.suffix(self.limit) { try self.emit(view) }
            seen.formUnion(views.map(\.record.id))
            while self.follow {
                Thread.sleep(forTimeInterval: 0.5)
                for view in AuditReader.views(location: location) where !seen.contains(view.record.id) && filter.matches(view.record) {
                    seen.insert(view.record.id)
                    try self.emit(view)
                }
            }
        }

        private func emit(_ view: RecordView) throws {
            if self.json {
                print(try LogTable.json(view))
            } else {
                print(LogTable.row(view, wide: self.wide, colour: RulesCommand.isTerminal))
            }
            fflush(nil)
        }

        private func makeFilter() throws -> RecordFilter {
            let decisions = try self.decision.map { text -> Decision in
                guard let decision = Decision(rawValue: text) else {
                    throw ValidationError("unknown decision '\(text)' (\(Decision.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                return decision
            }
            return RecordFilter(
                decisions: Set(decisions), user: self.user, role: self.role, rule: self.rule, category: self.category,
                since: try self.since.map(LogTable.parseTime), until: try self.until.map(LogTable.parseTime)
            )
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The whole record; --reveal decrypts a quarantined body.")
        @OptionGroup var location: Location
        @Argument(help: "The record id, or its short form as `log` prints it (6 or more hex digits from its end or its start).") var id: String
        @Flag(name: .long, help: "Decrypt the quarantined body (recorded in the review log, naming you).") var reveal = false
        @Option(name: .long, help: "Your name, recorded with the reveal.") var reviewer: String?
        @Option(name: .long, help: "Why you reveal it.") var reason: String?

        func run() throws {
            let location = self.location.resolved
            let id = try LogTable.resolve(self.id, location: location)
            let reveal = self.reveal
            let reviewer = self.reviewer
            let reason = self.reason
            try runBlocking { try await Self.show(id, location: location, reveal: reveal, reviewer: reviewer, reason: reason) }
        }

        private static func show(_ id: RecordID, location: AuditLocation, reveal: Bool, reviewer: String?, reason: String?) async throws {
            guard let view = AuditReader.views(location: location).first(where: { $0.record.id == id }) else {
                throw ValidationError("no record \(id) in \(location.directory)")
            }
            print(try LogTable.json(view, pretty: true))
            guard reveal else { return }
            guard let reviewer, !reviewer.isEmpty else { throw ValidationError("--reveal needs --reviewer NAME") }
            let desk = try ReviewCommand.desk(location)
            let log = try await AuditLog.open(location.reviewLog)
            do {
                let body = try await desk.reveal(id, reviewer: reviewer, reason: reason, log: log)
                try await log.close()
                FileHandle.standardError.write(Data("--- quarantined body (reveal recorded for \(reviewer)) ---\n".utf8))
                FileHandle.standardOutput.write(Data(body))
                print()
            } catch {
                try? await log.close()
                throw error
            }
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check every record's MAC, the chain and the checkpoints; name the first bad record.",
            discussion: "Exit status: 0 intact; 2 malformed; 3 edited (MAC); 4 foreign key; 5 deleted/inserted/reordered; 6 truncated or checkpoint mismatch; 1 other error."
        )
        @OptionGroup var location: Location

        func run() throws {
            let location = self.location.resolved
            let key: KeyFile
            do {
                guard let loaded = try KeyFile.load(path: location.keyFile) else { throw ExitCode(1) }
                key = loaded
            } catch {
                FileHandle.standardError.write(Data("\(error)\n".utf8))
                throw ExitCode(1)
            }
            var worst: Int32 = 0
            for directory in [location.directory, location.reviewDirectory] where FileManager.default.fileExists(atPath: directory) {
                let report = AuditVerifier(directory: directory, key: key.bytes).verify()
                for note in report.notes { print("note: \(note)") }
                if let failure = report.failure {
                    print("FAIL \(directory): \(failure)")
                    worst = worst == 0 ? failure.kind.exitCode : worst
                } else {
                    print(
                        "OK \(directory): \(report.lines) lines: \(report.records) decision records, \(report.checkpoints) checkpoints, \(report.segments) segments"
                    )
                }
            }
            if worst != 0 { throw ExitCode(worst) }
        }
    }
}

/// Runs async library work from a synchronous command (the root command is synchronous).
func runBlocking<T: Sendable>(_ work: @escaping @Sendable () async throws -> T) throws -> T {
    let box = ResultBox<T>()
    let done = DispatchSemaphore(value: 0)
    Task {
        do { box.set(.success(try await work())) } catch { box.set(.failure(error)) }
        done.signal()
    }
    done.wait()
    return try box.get()
}

private final class ResultBox<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var result: Result<T, any Error>?

    func set(_ value: Result<T, any Error>) { self.lock.withLock { self.result = value } }
    func get() throws -> T { try self.lock.withLock { self.result! }.get() }
}

/// Rendering for `gatewayctl log`.
enum LogTable {
    /// The columns; the id is the short form every command accepts (`--wide`: the whole id, nothing cut).
    static func header(wide: Bool) -> String {
        pad("ID", wide ? 37 : 9) + "TIME                      USER             ROLE         DECISION    PROVIDER/MODEL              RULES [DOCUMENTS]"
    }

    static func row(_ view: RecordView, wide: Bool = false, colour: Bool = false) -> String {
        let record = view.record
        let rules = Set(record.findings.map(\.ruleID)).sorted().joined(separator: ",")
        let target = [record.provider ?? "-", record.model ?? "-"].joined(separator: "/")
        let decision = record.decision.rawValue + (record.quarantined ? "*" : "")
        // Documents as format:outcome, so a blocked upload says what was refused (`pdf:refused`).
        let documents = (record.documents ?? []).map { "\($0.format):\($0.outcome)" }.joined(separator: ",")
        let found = [rules, documents.isEmpty ? "" : "[" + documents + "]"].filter { !$0.isEmpty }.joined(separator: " ")
        let cell: (String, Int) -> String = { text, width in wide ? text + " " : pad(text, width) }
        var decisionCell = pad(decision, wide ? decision.count + 1 : 12)
        if colour, let code = Self.colours[record.decision] { decisionCell = "\u{1B}[\(code)m" + decisionCell + "\u{1B}[0m" }
        return [
            wide ? record.id.rawValue + " " : pad(record.id.short, 9),
            pad(record.time, 26), cell(record.identity?.user ?? "-", 17), cell(record.identity?.role ?? "-", 13),
            decisionCell, cell(target, 28), found.isEmpty ? "-" : found,
        ].joined()
    }

    /// ANSI colours of decisions on a terminal (`NO_COLOR` turns them off).
    private static let colours: [Decision: String] = [
        .allow: "32", .redact: "33", .block: "31;1", .refused: "35", .error: "31", .released: "36", .uninspected: "33;1", .review: "35;1",
    ]

    /// The record `text` names: a full id, or a short one as the table prints it (read from the log).
    static func resolve(_ text: String, location: AuditLocation) throws -> RecordID {
        if let id = RecordID(text) { return id }
        switch RecordID.resolve(text, among: AuditReader.views(location: location).map(\.record.id)) {
        case .success(let id): return id
        case .failure(let error): throw ValidationError(error.description)
        }
    }

    static func json(_ view: RecordView, pretty: Bool = false) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(view), as: UTF8.self)
    }

    /// `24h`, `30m`, `7d`, `90s` before now, or a UTC time as records print it.
    static func parseTime(_ text: String) throws -> Date {
        if let date = UTCTime.parse(text) { return date }
        let units: [Character: TimeInterval] = ["d": 86_400, "h": 3_600, "m": 60, "s": 1]
        guard let unit = text.last, let scale = units[unit], let value = Double(text.dropLast()), value >= 0 else {
            throw ValidationError("'\(text)' is neither a duration like 24h nor a time like 2025-01-31T12:00:00.000Z")
        }
        return Date().addingTimeInterval(-value * scale)
    }

    private static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? String(text.prefix(width - 1)) + " " : text + String(repeating: " ", count: width - text.count)
    }
}
