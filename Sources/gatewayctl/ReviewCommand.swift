import ArgumentParser
import Foundation
import GatewayAudit

/// `gatewayctl review list|release|deny|purge`: decide on quarantined bodies. Every action is recorded in the
/// review log before it takes effect.
struct ReviewCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "review",
        abstract: "Release or deny quarantined (blocked) uploads.",
        subcommands: [List.self, Release.self, Deny.self, Purge.self]
    )

    static func desk(_ location: AuditLocation) throws -> ReviewDesk {
        ReviewDesk(quarantine: try Quarantine(location: location), ledger: ReleaseLedger(location: location))
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Quarantined bodies and their releases.")
        @OptionGroup var location: LogCommand.Location

        func run() throws {
            let desk = try ReviewCommand.desk(self.location.resolved)
            let grants = try desk.ledger.grants()
            print("RECORD                                 SENDER           SIZE     EXPIRES                   RELEASES")
            for entry in desk.quarantine.entries() {
                let releases = grants.filter { $0.recordID == entry.recordID }.map { "\($0.tokenID):\($0.state.rawValue)" }
                let denied = (try? desk.ledger.isDenied(entry.recordID)) == true ? " denied" : ""
                print("\(entry.recordID)   \(entry.sender.user.padding(toLength: 16, withPad: " ", startingAt: 0)) \(String(entry.size).padding(toLength: 8, withPad: " ", startingAt: 0)) \(entry.expires)  \(releases.joined(separator: ","))\(denied)")
            }
        }
    }

    struct Release: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Issue a one-time token that lets the sender resend exactly this body (header x-gateway-release)."
        )
        @OptionGroup var location: LogCommand.Location
        @Argument(help: "The blocked record's id, or its short form as `log` prints it.") var id: String
        @Option(name: .long, help: "Your name (recorded).") var reviewer: String
        @Option(name: .long, help: "Why it is a false alarm (recorded).") var reason: String
        @Option(name: .long, help: "Token lifetime: 1h, 30m, 2d.") var expires: String = "1h"
        @Flag(name: .long, help: "Four-eyes rule: refuse when you are the sender.") var fourEyes = false

        func run() throws {
            guard let id = RecordID(self.id) else { throw ValidationError("'\(self.id)' is not a record id") }
            let lifetime = Date().timeIntervalSince(try LogTable.parseTime(self.expires))
            let location = self.location.resolved
            let desk = try ReviewCommand.desk(location)
            let (reviewer, reason, fourEyes) = (self.reviewer, self.reason, self.fourEyes)
            try runBlocking { try await Self.release(id, desk: desk, location: location, reviewer: reviewer, reason: reason, lifetime: lifetime, fourEyes: fourEyes) }
        }

        private static func release(
            _ id: RecordID, desk: ReviewDesk, location: AuditLocation, reviewer: String, reason: String, lifetime: TimeInterval,
            fourEyes: Bool
        ) async throws {
            let log = try await AuditLog.open(location.reviewLog)
            do {
                let (token, grant) = try await desk.release(
                    id, reviewer: reviewer, reason: reason, lifetime: lifetime, fourEyes: fourEyes, log: log
                )
                try await log.close()
                print("release token (give it to \(grant.sender.user); valid until \(grant.expires), once):")
                print(token)
            } catch {
                try? await log.close()
                throw error
            }
        }
    }

    struct Deny: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Mark a blocked record as a true positive; revokes its tokens.")
        @OptionGroup var location: LogCommand.Location
        @Argument(help: "The blocked record's id, or its short form as `log` prints it.") var id: String
        @Option(name: .long, help: "Your name (recorded).") var reviewer: String
        @Option(name: .long, help: "Why (recorded).") var reason: String?

        func run() throws {
            let location = self.location.resolved
            let id = try LogTable.resolve(self.id, location: location)
            let desk = try ReviewCommand.desk(location)
            let (reviewer, reason) = (self.reviewer, self.reason)
            try runBlocking {
                let log = try await AuditLog.open(location.reviewLog)
                do {
                    try await desk.deny(id, reviewer: reviewer, reason: reason, log: log)
                    try await log.close()
                    print("denied \(id)")
                } catch {
                    try? await log.close()
                    throw error
                }
            }
        }
    }

    struct Purge: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete quarantined bodies past their retention.")
        @OptionGroup var location: LogCommand.Location

        func run() throws {
            let purged = try ReviewCommand.desk(self.location.resolved).quarantine.purge()
            print("purged \(purged.count) bodies")
        }
    }
}
