import Foundation
import Testing
@testable import GatewayAudit

/// Outcomes (`AuditLog.appendOutcome`) never start a write of their own while another is due soon: they are
/// gathered into one `outcomes` line that rides along with the next batch of records, and a timer writes them when
/// none comes.
@Suite("Writer: outcomes are batched")
struct OutcomeBatchTests {
    private func outcome(_ id: RecordID = .generate()) -> RequestOutcome {
        RequestOutcome(id: id, upstreamStatus: 200, status: 200, bytesOut: 10, upstreamMs: 1, totalMs: 2)
    }

    private func open(deferredWriteDelay: Duration) async throws -> (AuditLog, AuditLocation) {
        let location = temporaryLocation()
        var configuration = AuditLogConfiguration(location: location)
        configuration.deferredWriteDelay = deferredWriteDelay
        return (try await AuditLog.open(configuration), location)
    }

    @Test func outcomesRideAlongWithTheNextBatchAsOneLine() async throws {
        let (log, location) = try await self.open(deferredWriteDelay: .seconds(30))
        let outcomes = (0..<3).map { _ in self.outcome() }
        for outcome in outcomes { log.appendOutcome(outcome) }
        log.flushQueuedLines()  // the end of an event-loop pass with nothing but outcomes: no batch
        try await Task.sleep(for: .milliseconds(100))
        #expect(log.batches == 0, "outcomes alone started a write")

        try await log.append(sampleRecord())
        #expect(log.batches == 1, "the record and the outcomes should share one write and fsync")
        try await log.close()
        let report = try verify(location)
        #expect(report.ok, "\(String(describing: report.failure))")
        #expect(report.lines == 3)  // the record, one outcomes line, the shutdown checkpoint
        // The record was sealed when appended, the outcomes when the batch formed: both in that one batch.
        let entries = AuditReader.entries(directory: location.directory)
        #expect(entries.map(\.kind) == [.record, .outcomes, .checkpoint])
        #expect(entries[1].allOutcomes == outcomes)
    }

    @Test func outcomesAreWrittenByThemselvesWithinTheDelay() async throws {
        let (log, location) = try await self.open(deferredWriteDelay: .milliseconds(20))
        log.appendOutcome(self.outcome())
        log.appendOutcome(self.outcome())
        for _ in 0..<200 where log.batches == 0 { try await Task.sleep(for: .milliseconds(10)) }
        #expect(log.batches == 1)
        await log.abandonForTesting()  // a crash now loses nothing: the line is on disk
        let reopened = try await AuditLog.open(AuditLogConfiguration(location: location))
        #expect(reopened.startup.lastSeq == 1)
        try await reopened.close()
        #expect(AuditReader.entries(directory: location.directory).first?.allOutcomes.count == 2)
    }

    @Test("While records flow, the outcomes' timer never starts a write (and an fsync) of its own")
    func timerStartsNoWriteWhileRecordsFlow() async throws {
        // The delay is long against one round (even an fsync stalled by other tests' writes), and the rounds last
        // more than twice the delay: a timer that wrote outcomes alone would have done so at least twice.
        let (log, location) = try await self.open(deferredWriteDelay: .seconds(1))
        let rounds = 100
        let clock = ContinuousClock()
        let start = clock.now
        for _ in 0..<rounds {
            let record = sampleRecord()
            try await log.append(record)
            log.appendOutcome(self.outcome(record.id))
            try await Task.sleep(for: .milliseconds(22))  // the log is idle now and then, as between requests
        }
        #expect(clock.now - start > .seconds(2))
        // Every outcome rode along with the next record's batch, long before its timer was due.
        #expect(log.batches == rounds, "\(log.batches - rounds) writes of outcomes alone")
        try await log.close()
        let views = AuditReader.views(entries: AuditReader.entries(directory: location.directory))
        #expect(views.filter { $0.outcome != nil }.count == rounds)
    }

    @Test("Outcomes whose timer falls due during a slow write are written right after it, with nothing else appended")
    func outcomesDueDuringAWriteAreWrittenNext() async throws {
        let faults = FaultInjector()
        let location = temporaryLocation()
        var configuration = AuditLogConfiguration(location: location)
        configuration.deferredWriteDelay = .milliseconds(50)
        configuration.faults = faults
        let log = try await AuditLog.open(configuration)
        faults.stall(.fsync, by: .milliseconds(300))
        log.append(.record(sampleRecord()), flush: .now, completion: nil)
        try await Task.sleep(for: .milliseconds(30))  // the record's batch is in its slow fsync now
        log.appendOutcome(self.outcome())
        faults.clear()
        // The timer falls due at about 80 ms, while the first write still runs; nothing else is ever appended.
        for _ in 0..<300 where log.batches < 2 { try await Task.sleep(for: .milliseconds(10)) }
        #expect(log.batches == 2, "the outcome was left waiting for a record that never comes")
        try await log.close()
        #expect(AuditReader.entries(directory: location.directory).map(\.kind) == [.record, .outcomes, .checkpoint])
    }

    @Test func closingWritesGatheredOutcomes() async throws {
        let (log, location) = try await self.open(deferredWriteDelay: .seconds(30))
        log.appendOutcome(self.outcome())
        try await log.close()
        let report = try verify(location)
        #expect(report.ok, "\(String(describing: report.failure))")
        #expect(report.lines == 2)  // the outcomes line and the shutdown checkpoint
    }

    @Test func recordsAndOutcomesUnderConcurrencyAcrossRotationsKeepTheChain() async throws {
        let location = temporaryLocation()
        var configuration = AuditLogConfiguration(location: location)
        configuration.maxSegmentBytes = 16_000
        configuration.deferredWriteDelay = .milliseconds(1)
        let log = try await AuditLog.open(configuration)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<300 {
                group.addTask {
                    let record = sampleRecord(user: "u\(index)")
                    try await log.append(record)
                    log.appendOutcome(self.outcome(record.id))
                }
            }
            try await group.waitForAll()
        }
        try await log.close()
        let report = try verify(location)
        #expect(report.ok, "\(String(describing: report.failure))")
        #expect(report.records == 300)
        #expect(report.segments > 2)
        let views = AuditReader.views(entries: AuditReader.entries(directory: location.directory))
        #expect(views.count == 300)
        #expect(views.allSatisfy { $0.outcome?.id == $0.record.id }, "every record keeps its outcome")
        for index in SegmentNames.list(in: location.directory) {
            #expect(!(FileOps.read(segmentPath(location, index)) ?? []).contains(0), "segment \(index) kept reserved zeros")
        }
    }

    @Test func eachOutcomeJoinsItsRecord() async throws {
        let (log, location) = try await self.open(deferredWriteDelay: .seconds(30))
        let records = (0..<3).map { sampleRecord(user: "u\($0)") }
        for record in records { try await log.append(record) }
        for record in records.reversed() { log.appendOutcome(self.outcome(record.id)) }
        try await log.close()
        let views = AuditReader.views(entries: AuditReader.entries(directory: location.directory))
        #expect(views.map(\.record.id) == records.map(\.id))
        #expect(views.allSatisfy { $0.outcome?.id == $0.record.id })
    }
}
