import Foundation
import Testing
@testable import GatewayAudit

/// The writer keeps zeroed space after its lines so that each group commit's fsync rewrites blocks instead of
/// growing the file (see `SegmentFile`). These tests hold the contract around it: the space exists while a segment
/// is open, readers and recovery treat it as no content, and closed segments hold exactly their lines.
@Suite("Writer: reserved space after the lines")
struct ReservedSpaceTests {
    @Test func anOpenSegmentIsReservedAheadAndAClosedOneIsTrimmed() async throws {
        let location = temporaryLocation()
        let log = try await AuditLog.open(AuditLogConfiguration(location: location))
        for _ in 0..<3 { try await log.append(sampleRecord()) }
        let path = segmentPath(location, 1)
        let open = try #require(FileOps.read(path))
        let linesLength = try #require(open.lastIndex(of: UInt8(ascii: "\n"))) + 1
        #expect(open.count >= linesLength + SegmentFile.reserveLowWater, "no space reserved after the lines")
        #expect(open[linesLength...].allSatisfy { $0 == 0 })
        #expect(SegmentNames.lines(open).lines.count == 3)
        #expect(SegmentNames.lines(open).tail.isEmpty)
        let whileOpen = try verify(location)
        #expect(whileOpen.ok, "\(String(describing: whileOpen.failure))")
        #expect(whileOpen.records == 3)

        try await log.close()
        let closed = try #require(FileOps.read(path))
        #expect(closed.last == UInt8(ascii: "\n"), "a closed segment must end with its checkpoint line, not zeros")
        #expect(!closed.contains(0))
        #expect(try verify(location).ok)
    }

    @Test func rotationTrimsTheSegmentItLeaves() async throws {
        let location = temporaryLocation()
        var configuration = AuditLogConfiguration(location: location)
        configuration.maxSegmentBytes = 2_000
        let log = try await AuditLog.open(configuration)
        for index in 0..<12 { try await log.append(sampleRecord(user: "u\(index)")) }
        let segments = SegmentNames.list(in: location.directory)
        #expect(segments.count > 2)
        for index in segments.dropLast() {
            let bytes = try #require(FileOps.read(segmentPath(location, index)))
            #expect(!bytes.contains(0), "closed segment \(index) still holds reserved zeros")
        }
        try await log.close()
        let report = try verify(location)
        #expect(report.ok, "\(String(describing: report.failure))")
        #expect(report.records == 12)
    }

    @Test func aCrashLeavesZerosThatRecoveryDropsWithoutSettingAnythingAside() async throws {
        let location = temporaryLocation()
        let log = try await AuditLog.open(AuditLogConfiguration(location: location))
        for _ in 0..<3 { try await log.append(sampleRecord()) }
        await log.abandonForTesting()  // kill -9: no checkpoint, reserved zeros left in place

        let reopened = try await AuditLog.open(AuditLogConfiguration(location: location))
        #expect(reopened.startup.tornFile == nil)
        #expect(reopened.startup.recoveredSegment == 1)
        #expect(reopened.startup.lastSeq == 3)
        try await reopened.append(sampleRecord())
        try await reopened.close()
        let recovered = try #require(FileOps.read(segmentPath(location, 1)))
        #expect(!recovered.contains(0), "recovery must cut the reserved zeros off the segment it closes")
        let report = try verify(location)
        #expect(report.ok, "\(String(describing: report.failure))")
        #expect(report.records == 4)
    }

    @Test func aLineTornInsideTheReservedSpaceIsSetAsideWithoutTheZeros() async throws {
        let location = temporaryLocation()
        let log = try await AuditLog.open(AuditLogConfiguration(location: location))
        for _ in 0..<2 { try await log.append(sampleRecord()) }
        await log.abandonForTesting()
        // The crash cut a write short where the writer writes: right after the last line, inside the zeros.
        let path = segmentPath(location, 1)
        let bytes = try #require(FileOps.read(path))
        let end = try #require(bytes.lastIndex(of: UInt8(ascii: "\n"))) + 1
        let partial = Array("{\"kind\":\"record\",\"seq\":3,\"pre".utf8)
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.seek(toOffset: UInt64(end))
        handle.write(Data(partial))
        try handle.close()

        let reopened = try await AuditLog.open(AuditLogConfiguration(location: location))
        let torn = try #require(reopened.startup.tornFile)
        #expect(FileOps.read(torn) == partial)
        #expect(reopened.startup.lastSeq == 2)
        try await reopened.close()
        #expect(try verify(location).ok)
    }

    @Test func onlyTrailingZerosAreReservedSpace() {
        let text = Array("{\"a\":1}\n{\"b\":\u{0}2}\n{\"c\"".utf8) + [0, 0, 0]
        let (lines, tail) = SegmentNames.lines(text)
        #expect(lines.count == 2)
        #expect(lines[1].contains(0), "a NUL inside a line is content, and fails that line's parsing")
        #expect(Array(tail) == Array("{\"c\"".utf8))
    }
}
