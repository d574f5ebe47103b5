import ArgumentParser
import Foundation
import GatewayAudit

/// `gatewayctl review list|release|deny|label|purge`: the review queue, decisions on held and blocked bodies, and
/// verdicts. Every action is recorded in the review log before it takes effect.
struct ReviewCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "review",
        abstract: "The review queue: release or deny held and blocked requests, label decisions with verdicts.",
        subcommands: [List.self, Release.self, Deny.self, Label.self, Purge.self]
    )

    static func desk(_ location: AuditLocation) throws -> ReviewDesk {
        ReviewDesk(
            quarantine: try Quarantine(location: location), ledger: ReleaseLedger(location: location),
            samples: try Quarantine(directory: location.samplesDirectory, keyFile: location.quarantineKeyFile))
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The queue of requests held for review (oldest first, with age and reason), then blocked bodies.")
        @OptionGroup var location: LogCommand.Location
        @Flag(name: .long, help: "Also list sampled bodies (forwarded requests kept for review after the fact).")
        var samples = false
        @Flag(name: .long, help: "Print JSON (the queue only).") var json = false

        func run() throws {
            let location = self.location.resolved
            let desk = try ReviewCommand.desk(location)
            let store = try LocalReviewStore(location: location, quarantine: desk.quarantine)
            let queue = try store.queue(now: Date())
            if self.json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
                print(String(decoding: try encoder.encode(queue), as: UTF8.self))
                return
            }
            print("HELD FOR REVIEW: \(queue.count)")
            print("ID        AGE      SENDER           SIZE     REASON")
            for item in queue {
                print(Self.column(item.recordID.short, 9) + Self.column(Self.age(item.ageSeconds), 9)
                    + Self.column(item.sender.user, 17) + Self.column(String(item.bytes), 9) + item.reasons.joined(separator: ", "))
            }
            let grants = try desk.ledger.grants()
            print("\nQUARANTINED")
            print("ID        KEPT     SENDER           SIZE     EXPIRES                   RELEASES")
            for entry in desk.quarantine.entries() + (self.samples ? store.samples.entries() : []) {
                let releases = grants.filter { $0.recordID == entry.recordID }.map { "\($0.tokenID):\($0.state.rawValue)" }
                let denied = (try? desk.ledger.isDenied(entry.recordID)) == true ? " denied" : ""
                print(Self.column(entry.recordID.short, 9) + Self.column(entry.kept.rawValue, 9)
                    + Self.column(entry.sender.user, 17) + Self.column(String(entry.size), 9) + Self.column(entry.expires, 26)
                    + releases.joined(separator: ",") + denied)
            }
        }

        static func column(_ text: String, _ width: Int) -> String {
            text.count >= width ? text + " " : text.padding(toLength: width, withPad: " ", startingAt: 0)
        }

        static func age(_ seconds: Double) -> String {
            if seconds < 120 { return "\(Int(seconds))s" }
            if seconds < 7200 { return "\(Int(seconds / 60))m" }
            if seconds < 172_800 { return String(format: "%.1fh", seconds / 3600) }
            return "\(Int(seconds / 86_400))d"
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
            let location = self.location.resolved
            let id = try LogTable.resolve(self.id, location: location)
            let lifetime = Date().timeIntervalSince(try LogTable.parseTime(self.expires))
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

    struct Label: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record a reviewer's verdict on a decision (chained in the review log); reports turn verdicts into per-rule precision and the missed rate."
        )
        @OptionGroup var location: LogCommand.Location
        @Argument(help: "The record's id, or its short form as `log` prints it.") var id: String
        @Option(name: .long, help: "correct (the findings and decision were right), false-positive (a finding was not sensitive), missed (sensitive data went through unfound).")
        var verdict: String
        @Option(name: .long, help: "Your name (recorded).") var reviewer: String
        @Option(name: .long, help: "A note (recorded; your words, never the body's).") var note: String?

        func run() throws {
            guard let verdict = ReviewEvent.Verdict(rawValue: self.verdict) else {
                throw ValidationError("--verdict must be one of: \(ReviewEvent.Verdict.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let location = self.location.resolved
            let id = try LogTable.resolve(self.id, location: location)
            guard let record = AuditReader.views(location: location).first(where: { $0.record.id == id })?.record else {
                throw ValidationError("no decision record \(id)")
            }
            let store = try LocalReviewStore(location: location)
            let (reviewer, note) = (self.reviewer, self.note)
            try runBlocking { try await store.label(record, verdict: verdict, reviewer: reviewer, note: note) }
            print("labelled \(id.short) \(verdict.rawValue)")
        }
    }

    struct Purge: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete quarantined bodies past their retention.")
        @OptionGroup var location: LogCommand.Location

        func run() throws {
            let desk = try ReviewCommand.desk(self.location.resolved)
            let purged = desk.quarantine.purge().count + (desk.samples?.purge().count ?? 0)
            print("purged \(purged) bodies")
        }
    }
}
