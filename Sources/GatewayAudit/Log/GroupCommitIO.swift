import Foundation

/// One line of a batch, the segment it belongs to, and the HEAD to publish once it is durable (checkpoints only).
struct WriteStep: Sendable {
    let bytes: [UInt8]
    let segment: Int
    let head: HeadCheckpoint?
}

/// The blocking half of a group commit, run on the log's I/O queue.
struct IOContext: Sendable {
    let directory: String
    let key: KeyFile
    let faults: FaultInjector?

    /// Writes `steps` in order with as few syscalls as possible: one `write` per segment touched, an fsync before
    /// leaving a segment and at the end, HEAD after each checkpoint is durable. A segment left behind is trimmed to
    /// its lines, and so is the last one when `closing`. Returns the segment now open. With `syncAtEnd` false the
    /// last segment is written but not fsynced (`AuditLogConfiguration.syncInterval`); leaving a segment and
    /// publishing HEAD still sync.
    func perform(_ steps: [WriteStep], file: SegmentFile, closing: Bool = false, syncAtEnd: Bool = true)
        throws(AuditError) -> SegmentFile
    {
        var file = file
        var buffer: [UInt8] = []
        for step in steps {
            if step.segment != file.index {
                try file.append(buffer)
                buffer.removeAll(keepingCapacity: true)
                try file.trimReserve()
                try file.sync()
                file.closeFile()
                file = try SegmentFile(
                    path: self.directory + "/" + SegmentNames.name(step.segment), index: step.segment, truncate: true,
                    faults: self.faults
                )
                try FileOps.syncDirectory(self.directory)
            }
            buffer.append(contentsOf: step.bytes)
            if let head = step.head {
                try file.append(buffer)
                buffer.removeAll(keepingCapacity: true)
                try file.sync()
                try head.write(directory: self.directory, key: self.key.bytes)
            }
        }
        if !buffer.isEmpty { try file.append(buffer) }
        if closing { try file.trimReserve() }
        if syncAtEnd || closing { try file.sync() }
        return file
    }
}

/// The single-writer lock of a log directory.
enum WriterLock {
    static let fileName = ".writer.lock"

    static func acquire(directory: String) throws(AuditError) -> Int32 {
        let path = directory + "/" + fileName
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw .io(operation: "open", path: path, errno: errno) }
        for _ in 0..<20 {
            if flock(fd, LOCK_EX | LOCK_NB) == 0 { return fd }
            usleep(50_000)
        }
        close(fd)
        throw .locked(path: directory)
    }

    static func release(_ fd: Int32) {
        flock(fd, LOCK_UN)
        close(fd)
    }
}

/// Used only on the log's I/O queue (by `ChainWriter` and `IOContext`).
extension SegmentFile: @unchecked Sendable {}
