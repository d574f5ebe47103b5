import Foundation
import Synchronization
import Testing
@testable import GatewayAudit

@Suite("Writer: durability, group commit, recovery")
struct DurabilityTests {
    @Test func concurrentAppendsShareFsyncsAndKeepTheChain() async throws {
        let location = temporaryLocation()
        var configuration = AuditLogConfiguration(location: location)
        configuration.maxSegmentBytes = 16_000
        let log = try await AuditLog.open(configuration)
        let receipts = try await withThrowingTaskGroup(of: AppendReceipt.self) { group in
            for index in 0..<300 { group.addTask { try await log.append(sampleRecord(user: "u\(index)")) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let batches = log.batches
        try await log.close()
        #expect(batches < 300, "group commit should share fsyncs, got \(batches) batches")
        #expect(Set(receipts.map(\.seq)).count == 300)
        let report = try verify(location)
        #expect(report.ok, "\(String(describing: report.failure))")
        #expect(report.records == 300)
        #expect(report.segments > 1)
    }

    @Test func tornLastLineIsSetAsideAndTheChainContinues() async throws {
        let location = temporaryLocation()
        let log = try await AuditLog.open(AuditLogConfiguration(location: location))
        for _ in 0..<3 { try await log.append(sampleRecord()) }
        // Simulate kill -9 mid-write: no close, a partial line at the end.
        let path = segmentPath(location, 1)
        let linesEnd = try #require(FileOps.read(path)?.lastIndex(of: UInt8(ascii: "\n"))) + 1
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.seek(toOffset: UInt64(linesEnd))  // where the writer appends (reserved zeros follow)
        handle.write(Data("{\"kind\":\"record\",\"seq\":4,\"pre".utf8))
        try handle.close()
        // The dead process's lock goes away with it; here we close the descriptor without a checkpoint.
        await log.abandonForTesting()
        let reopened = try await AuditLog.open(AuditLogConfiguration(location: location))
        #expect(reopened.startup.tornFile == path + ".torn")
        #expect(reopened.startup.recoveredSegment == 1)
        #expect(reopened.startup.lastSeq == 3)
        try await reopened.append(sampleRecord())
        try await reopened.close()
        let report = try verify(location)
        #expect(report.ok, "\(String(describing: report.failure))")
        #expect(report.records == 4)
        #expect(report.notes.contains { $0.contains(".torn") })
    }

    @Test func writeFailureMakesTheLogUnhealthyUntilItRecovers() async throws {
        let location = temporaryLocation()
        let faults = FaultInjector()
        var configuration = AuditLogConfiguration(location: location)
        configuration.faults = faults
        configuration.recoveryInterval = .milliseconds(20)
        let log = try await AuditLog.open(configuration)
        try await log.append(sampleRecord())
        faults.fail(.fsync)
        await #expect(throws: AuditError.self) { try await log.append(sampleRecord()) }
        #expect(!log.isHealthy)
        await #expect(throws: AuditError.unavailable) { try await log.append(sampleRecord()) }
        faults.fail(.write)
        try await Task.sleep(for: .milliseconds(100))
        #expect(!log.isHealthy)  // still failing
        faults.clear()
        for _ in 0..<100 where !log.isHealthy { try await Task.sleep(for: .milliseconds(20)) }
        #expect(log.isHealthy)
        try await log.append(sampleRecord())
        try await log.close()
        let report = try verify(location)
        #expect(report.ok, "\(String(describing: report.failure))")
        #expect(report.records == 2)  // the failed append left nothing behind
    }

    @Test func secondWriterIsRefused() async throws {
        let location = temporaryLocation()
        let log = try await AuditLog.open(AuditLogConfiguration(location: location))
        await #expect(throws: AuditError.locked(path: location.directory)) {
            _ = try await AuditLog.open(AuditLogConfiguration(location: location))
        }
        try await log.close()
    }

    @Test func keyInsideTheLogDirectoryIsRefused() async throws {
        let location = temporaryLocation()
        let configuration = AuditLogConfiguration(directory: location.directory, keyFile: location.directory + "/k.key")
        await #expect(throws: AuditError.self) { _ = try await AuditLog.open(configuration) }
    }

    @Test func keyFileIsCreated0600() throws {
        let location = temporaryLocation()
        let key = try KeyFile.loadOrCreate(path: location.keyFile)
        let attributes = try FileManager.default.attributesOfItem(atPath: location.keyFile)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        #expect(try KeyFile.loadOrCreate(path: location.keyFile).bytes == key.bytes)
    }

    @Test("A record made by a closure is built when its batch is sealed, after the append returned, and logged as given")
    func recordMadeByClosureIsBuiltOnTheIOQueue() async throws {
        let location = temporaryLocation()
        let log = try await AuditLog.open(AuditLogConfiguration(location: location))
        let record = sampleRecord(user: "made-later")
        let calls = Mutex(0)
        let receipt = await withCheckedContinuation { continuation in
            log.append(recordMadeBy: {
                calls.withLock { $0 += 1 }
                return record
            }, flush: .withPass) { continuation.resume(returning: $0) }
            #expect(calls.withLock { $0 } == 0, "the record was built on the caller's thread")
            log.flushQueuedLines()
        }
        #expect(try receipt.get().seq == 1)
        #expect(calls.withLock { $0 } == 1)
        try await log.close()
        #expect(AuditReader.entries(directory: location.directory).first?.record == record)
    }

    @Test("The batch observer hears of every durable batch with its lines, and of nothing that failed")
    func batchObserverCountsDurableBatches() async throws {
        let location = temporaryLocation()
        let faults = FaultInjector()
        let seen = Mutex<[Int]>([])
        var configuration = AuditLogConfiguration(location: location)
        configuration.faults = faults
        configuration.batchWritten = { lines, duration in
            #expect(duration > .zero)
            seen.withLock { $0.append(lines) }
        }
        let log = try await AuditLog.open(configuration)
        try await log.append(sampleRecord())
        try await log.append(sampleRecord())
        faults.fail(.fsync)
        await #expect(throws: AuditError.self) { try await log.append(sampleRecord()) }
        #expect(seen.withLock { $0 } == [1, 1])
        faults.clear()
        try await log.close()
    }
}

@Suite("Writer: audit.sync interval")
struct IntervalSyncTests {
    @Test func appendsCompleteOnceWrittenWithoutWaitingForAnFsync() async throws {
        let location = temporaryLocation()
        var configuration = AuditLogConfiguration(location: location)
        configuration.syncInterval = .seconds(3600)  // no interval fsync can run during the test
        let log = try await AuditLog.open(configuration)
        for index in 0..<20 { try await log.append(sampleRecord(user: "u\(index)")) }
        // Acknowledged and in the file (the page cache: it survives the process), no fsync yet.
        #expect(log.intervalSyncs == 0)
        #expect(readLines(segmentPath(location, 1)).filter { $0.contains("\"kind\":\"record\"") }.count == 20)
        try await log.close()  // closing syncs
        let report = try verify(location)
        #expect(report.ok && report.records == 20)
    }

    @Test func anFsyncFollowsWithinTheWindow() async throws {
        let location = temporaryLocation()
        var configuration = AuditLogConfiguration(location: location)
        configuration.syncInterval = .milliseconds(20)
        let log = try await AuditLog.open(configuration)
        for index in 0..<5 { try await log.append(sampleRecord(user: "u\(index)")) }
        let deadline = ContinuousClock.now + .seconds(10)
        while log.intervalSyncs == 0 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        #expect(log.intervalSyncs >= 1)
        #expect(log.intervalSyncs <= log.batches, "at most one interval fsync per batch written")
        try await log.close()
        #expect(try verify(location).ok)
    }
}
