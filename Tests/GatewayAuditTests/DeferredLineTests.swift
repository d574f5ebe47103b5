import Foundation
import Synchronization
import Testing
@testable import GatewayAudit

/// Lines appended with `Flush.deferred` (request outcomes) never start a batch of their own while another is due
/// soon: they ride along with the next one, and a timer writes them when none comes.
@Suite("Writer: deferred lines")
struct DeferredLineTests {
    private func outcome() -> AuditPayload {
        .outcome(RequestOutcome(id: RecordID.generate(), upstreamStatus: 200, status: 200, bytesOut: 10, upstreamMs: 1, totalMs: 2))
    }

    private func open(deferredWriteDelay: Duration) async throws -> (AuditLog, AuditLocation) {
        let location = temporaryLocation()
        var configuration = AuditLogConfiguration(location: location)
        configuration.deferredWriteDelay = deferredWriteDelay
        return (try await AuditLog.open(configuration), location)
    }

    @Test func aDeferredLineRidesAlongWithTheNextBatch() async throws {
        let (log, location) = try await self.open(deferredWriteDelay: .seconds(30))
        let written = Mutex<Result<AppendReceipt, AuditError>?>(nil)
        log.append(self.outcome(), flush: .deferred) { result in written.withLock { $0 = result } }
        log.flushQueuedLines()  // the end of an event-loop pass with nothing but the outcome: no batch
        try await Task.sleep(for: .milliseconds(100))
        #expect(log.batches == 0, "a deferred line alone started a write")
        #expect(written.withLock { $0 } == nil)

        let record = try await log.append(sampleRecord())
        #expect(log.batches == 1, "the record and the deferred line should share one write and fsync")
        let outcomeReceipt = try #require(try written.withLock { $0 }?.get())
        #expect(outcomeReceipt.seq == record.seq - 1)
        try await log.close()
        let report = try verify(location)
        #expect(report.ok, "\(String(describing: report.failure))")
        #expect(report.lines == 3)  // outcome, record, shutdown checkpoint
    }

    @Test func aDeferredLineIsWrittenByItselfWithinTheDelay() async throws {
        let (log, location) = try await self.open(deferredWriteDelay: .milliseconds(20))
        let written = Mutex<Result<AppendReceipt, AuditError>?>(nil)
        log.append(self.outcome(), flush: .deferred) { result in written.withLock { $0 = result } }
        for _ in 0..<200 where written.withLock({ $0 }) == nil { try await Task.sleep(for: .milliseconds(10)) }
        #expect(try written.withLock { $0 }?.get().seq == 1)
        #expect(log.batches == 1)
        await log.abandonForTesting()  // a crash now loses nothing: the line is on disk
        let reopened = try await AuditLog.open(AuditLogConfiguration(location: location))
        #expect(reopened.startup.lastSeq == 1)
        try await reopened.close()
    }

    @Test func closingWritesDeferredLines() async throws {
        let (log, location) = try await self.open(deferredWriteDelay: .seconds(30))
        log.append(self.outcome(), flush: .deferred, completion: nil)
        try await log.close()
        let report = try verify(location)
        #expect(report.ok, "\(String(describing: report.failure))")
        #expect(report.lines == 2)  // the outcome and the shutdown checkpoint
    }
}
