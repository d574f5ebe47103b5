import Foundation

/// An open segment: a file descriptor, the length of its lines (`size`) and the zeroed space reserved after them.
/// Used only from the log's I/O queue.
///
/// Why reserve: `fdatasync` after an append that grows the file must also commit the new size and block allocation
/// (a journal commit on ext4 and XFS); after a write into blocks that already exist it flushes only the data. So
/// the file is kept ahead of its lines by `reserveChunk` zero bytes, written in place (the technique databases use
/// for their write-ahead logs). On this repository's test machine that halves the wall time of each group commit
/// (`bench/fsync-bench`). Trailing NUL bytes are therefore reserved space, never content: readers stop at them
/// (`SegmentNames.lines`), and a segment is trimmed to its lines when it is closed.
///
/// Contract: `append` writes all bytes at `size` or throws (short writes are retried, `EINTR` too); `sync` is
/// `fdatasync`. After either throws, the descriptor must not be trusted again (a failed fsync may have dropped dirty
/// pages), so the log closes it and recovers through a fresh descriptor.
final class SegmentFile {
    /// Zero bytes added at a time once fewer than `reserveLowWater` are left after the lines.
    static let reserveChunk = 1 << 20
    static let reserveLowWater = 256 << 10

    let path: String
    let index: Int
    private(set) var fd: Int32
    /// The length of the lines: where the next append goes.
    private(set) var size: Int
    /// The length of the file: `size` plus reserved zero bytes.
    private(set) var reserved: Int
    /// Set when writing zeros failed (e.g. disk full): the segment then grows by appends alone.
    private var reserveDisabled = false
    private let faults: FaultInjector?

    /// Opens (creating if needed) `path` for writing at its end; `truncate` empties an existing file.
    init(path: String, index: Int, truncate: Bool = false, faults: FaultInjector?) throws(AuditError) {
        if let code = faults?.error(for: .open) { throw .io(operation: "open", path: path, errno: code) }
        let flags = O_WRONLY | O_CREAT | O_CLOEXEC | (truncate ? O_TRUNC : 0)
        let fd = open(path, flags, 0o640)
        guard fd >= 0 else { throw .io(operation: "open", path: path, errno: errno) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let code = errno
            close(fd)
            throw .io(operation: "fstat", path: path, errno: code)
        }
        self.path = path
        self.index = index
        self.fd = fd
        self.size = Int(info.st_size)
        self.reserved = Int(info.st_size)
        self.faults = faults
    }

    deinit { if self.fd >= 0 { close(self.fd) } }

    func append(_ bytes: [UInt8]) throws(AuditError) {
        if let code = self.faults?.error(for: .write) { throw .io(operation: "write", path: self.path, errno: code) }
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { pwrite(self.fd, $0.baseAddress! + offset, $0.count - offset, off_t(self.size)) }
            if written < 0 {
                if errno == EINTR { continue }
                throw .io(operation: "write", path: self.path, errno: errno)
            }
            offset += written
            self.size += written
        }
        self.reserved = max(self.reserved, self.size)
    }

    /// Writes `reserveChunk` zero bytes after the reserved space when less than `reserveLowWater` is left. Called
    /// after a batch's waiters are completed. Not synced here: the next batch's fsync carries them, and a failure
    /// to write them surfaces there as the record failure it would be anyway. A failed zero write (disk full) only
    /// stops reserving for this segment.
    func reserveAhead() {
        guard !self.reserveDisabled, self.reserved - self.size < Self.reserveLowWater else { return }
        var offset = 0
        while offset < Self.reserveChunk {
            let written = Self.zeros.withUnsafeBytes {
                pwrite(self.fd, $0.baseAddress!, $0.count - offset, off_t(self.reserved + offset))
            }
            if written < 0, errno == EINTR { continue }
            guard written > 0 else {
                self.reserveDisabled = true
                _ = ftruncate(self.fd, off_t(self.size))
                self.reserved = self.size
                return
            }
            offset += written
        }
        self.reserved += Self.reserveChunk
    }

    /// Cuts the reserved zeros off, so that a closed segment holds exactly its lines. The caller syncs.
    func trimReserve() throws(AuditError) {
        guard self.reserved > self.size else { return }
        guard ftruncate(self.fd, off_t(self.size)) == 0 else { throw .io(operation: "ftruncate", path: self.path, errno: errno) }
        self.reserved = self.size
    }

    private static let zeros = [UInt8](repeating: 0, count: reserveChunk)

    func sync() throws(AuditError) {
        if let code = self.faults?.error(for: .fsync) { throw .io(operation: "fsync", path: self.path, errno: code) }
        self.faults?.stallIfSet(.fsync)
        guard Self.syncData(self.fd) == 0 else { throw .io(operation: "fsync", path: self.path, errno: errno) }
    }

    /// `fdatasync` where it exists: it flushes the data and the metadata needed to read it back (the file size
    /// grows with every batch), skipping only timestamps, so an appended line is as durable as with `fsync`.
    private static func syncData(_ fd: Int32) -> Int32 {
        #if os(Linux)
            fdatasync(fd)
        #else
            fsync(fd)
        #endif
    }

    /// Cuts the file back to `length` bytes and syncs (used to drop lines whose write was not acknowledged).
    func truncate(to length: Int) throws(AuditError) {
        guard ftruncate(self.fd, off_t(length)) == 0 else { throw .io(operation: "ftruncate", path: self.path, errno: errno) }
        self.size = length
        self.reserved = length
        try self.sync()
    }

    func closeFile() {
        if self.fd >= 0 { close(self.fd) }
        self.fd = -1
    }
}

/// File-system helpers shared by the writer, the verifier and the reader.
enum FileOps {
    /// `fsync` of a directory, so a created or renamed entry survives a crash.
    static func syncDirectory(_ path: String) throws(AuditError) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw .io(operation: "open", path: path, errno: errno) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw .io(operation: "fsync", path: path, errno: errno) }
    }

    /// Creates `path` and its parents with mode 0750 (existing directories are fine).
    static func makeDirectory(_ path: String) throws(AuditError) {
        do {
            try FileManager.default.createDirectory(
                atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o750]
            )
        } catch {
            throw .io(operation: "mkdir", path: path, errno: EACCES)
        }
    }

    /// Writes `bytes` to `path` atomically: temporary file, fsync, rename, directory fsync.
    static func writeAtomically(_ bytes: [UInt8], to path: String, mode: mode_t = 0o640) throws(AuditError) {
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw .io(operation: "open", path: temporary, errno: errno) }
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let synced = written == bytes.count ? fsync(fd) : -1
        let code = errno
        close(fd)
        guard written == bytes.count, synced == 0 else { throw .io(operation: "write", path: temporary, errno: code) }
        guard rename(temporary, path) == 0 else { throw .io(operation: "rename", path: path, errno: errno) }
        try syncDirectory((path as NSString).deletingLastPathComponent)
    }

    /// The whole file, or nil when it does not exist.
    static func read(_ path: String) -> [UInt8]? {
        FileManager.default.contents(atPath: path).map { Array($0) }
    }
}
