import Foundation
import GatewayAudit
import Synchronization

/// Where reports get the decision records' figures from: summaries of the records (with their outcomes' usage and
/// latency joined). `SummaryIndex` reads the local log; a store shared by several replicas (PostgreSQL) would sum
/// its own rows into the same `SegmentSummary` shape, and reports and metrics would not change.
public protocol RecordSummaries: Sendable {
    /// Every summary, oldest first, outcomes joined to their records.
    func summaries() -> [SegmentSummary]
}

/// The segment summaries of one decision log, kept in `<audit directory>/index/` and brought up to date on each
/// read: a segment already summarised is not read again, and the segment still being written is read only from
/// where its summary ended. Summaries are derived data: deleting the index costs one full read, nothing else.
///
/// A segment is only ever appended to, so a summary is extended when its segment grew and made anew when it shrank
/// (a different file). The index is not a verifier (`gatewayctl log verify` is); it only avoids reading what it has
/// read.
public struct SummaryIndex: RecordSummaries {
    public let directory: String
    public let indexDirectory: String
    /// Whether segments are summarised on every core (`gatewayctl report`) or one at a time (the gateway, which
    /// must leave cores to its event loops).
    public let parallel: Bool

    public init(auditDirectory: String, parallel: Bool = true) {
        self.directory = auditDirectory
        self.indexDirectory = auditDirectory + "/index"
        self.parallel = parallel
    }

    public func summaries() -> [SegmentSummary] { self.load().summaries }

    /// What `load` did, for benchmarks and `--verbose`.
    public struct LoadStatistics: Sendable {
        public var segments = 0
        public var reused = 0
        public var extended = 0
        public var summarised = 0
        public var bytesRead = 0
    }

    /// Every segment's summary, oldest first, with outcomes joined to records across segments.
    public func load() -> (summaries: [SegmentSummary], statistics: LoadStatistics) {
        let segments = SegmentNames.list(in: self.directory)
        let slots = Mutex([(SegmentSummary, Int, Int)?](repeating: nil, count: segments.count))
        // Segments are independent: summarised on every core, unless asked not to.
        if self.parallel {
            DispatchQueue.concurrentPerform(iterations: segments.count) { position in
                let made = self.summary(ofSegment: segments[position])
                slots.withLock { $0[position] = made }
            }
        } else {
            for position in segments.indices {
                let made = self.summary(ofSegment: segments[position])
                slots.withLock { $0[position] = made }
            }
        }
        let made = slots.withLock { $0.compactMap { $0 } }
        let results = made.map(\.0)
        let modes = made.map(\.1)
        let read = made.map(\.2)
        var statistics = LoadStatistics()
        statistics.segments = segments.count
        statistics.reused = modes.filter { $0 == 0 }.count
        statistics.extended = modes.filter { $0 == 1 }.count
        statistics.summarised = modes.filter { $0 == 2 }.count
        statistics.bytesRead = read.reduce(0, +)
        return (Self.joined(results), statistics)
    }

    /// Adds each outcome that landed in a later segment to its record's cell.
    static func joined(_ summaries: [SegmentSummary]) -> [SegmentSummary] {
        var summaries = summaries
        var owner: [String: Int] = [:]
        for (position, summary) in summaries.enumerated() {
            for id in summary.awaiting.keys { owner[id] = position }
        }
        for position in summaries.indices {
            for (id, contribution) in summaries[position].orphans {
                guard let home = owner[id], let cells = summaries[home].awaiting[id] else { continue }
                summaries[home].credit(contribution, to: cells)
            }
        }
        return summaries
    }

    /// 0: reused as stored; 1: extended with the lines appended since; 2: summarised from the start.
    private func summary(ofSegment index: Int) -> (SegmentSummary, Int, Int) {
        let file = self.directory + "/" + SegmentNames.name(index)
        let attributes = (try? FileManager.default.attributesOfItem(atPath: file)) ?? [:]
        let size = (attributes[.size] as? NSNumber)?.intValue ?? 0
        let modified = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
        let cacheFile = self.indexDirectory + "/" + SegmentNames.name(index) + ".summary.json"
        var mode = 2
        var summary = SegmentSummary(segmentBytes: 0, segmentModified: 0)
        if let data = FileManager.default.contents(atPath: cacheFile),
            let stored = try? JSONDecoder().decode(SegmentSummary.self, from: data),
            stored.schema == SegmentSummary.currentSchema, stored.segmentBytes <= size,
            stored.lastLine == Self.lineTail(file, endingAt: stored.segmentBytes)
        {
            if stored.fileBytes == size && stored.segmentModified == modified { return (stored, 0, 0) }
            summary = stored
            mode = 1
        }
        let (entries, end) = AuditReader.entries(file: file, from: summary.segmentBytes)
        let bytesRead = end - summary.segmentBytes
        for entry in entries { summary.add(entry) }
        summary.segmentBytes = end
        summary.lastLine = Self.lineTail(file, endingAt: end)
        summary.fileBytes = size
        summary.segmentModified = modified
        self.store(summary, to: cacheFile)
        return (summary, mode, bytesRead)
    }

    /// The last 64 bytes of the line that ends at `end` (its MAC, which covers the previous line's hash): equal tails
    /// mean the same lines up to `end`. A segment cut back after a write failure and written again differs here, so
    /// its summary is made anew. Empty for `end == 0`.
    static func lineTail(_ file: String, endingAt end: Int) -> String {
        guard end > 0, let handle = FileHandle(forReadingAtPath: file) else { return "" }
        defer { try? handle.close() }
        let start = max(0, end - 65)
        guard (try? handle.seek(toOffset: UInt64(start))) != nil,
            let data = try? handle.read(upToCount: end - start)
        else { return "" }
        return String(decoding: data, as: UTF8.self)
    }

    /// Best effort: an index that cannot be written (a read-only audit directory) only means reading again.
    private func store(_ summary: SegmentSummary, to file: String) {
        try? FileManager.default.createDirectory(atPath: self.indexDirectory, withIntermediateDirectories: true)
        guard let data = try? JSONEncoder().encode(summary) else { return }
        let temporary = file + ".tmp-\(getpid())"
        guard FileManager.default.createFile(atPath: temporary, contents: data) else { return }
        if rename(temporary, file) != 0 { unlink(temporary) }
    }
}
