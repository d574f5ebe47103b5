import Foundation

/// An open segment: an append-only file descriptor plus its size. Used only from the log's I/O queue.
///
/// Contract: `append` writes all bytes or throws (short writes are retried, `EINTR` too); `sync` is `fsync`. After
/// either throws, the descriptor must not be trusted again (a failed fsync may have dropped dirty pages), so the log
/// closes it and recovers through a fresh descriptor.
final class SegmentFile {
    let path: String
    let index: Int
    private(set) var fd: Int32
    private(set) var size: Int
    private let faults: FaultInjector?

    /// Opens (creating if needed) `path` for appending; `truncate` empties an existing file.
    init(path: String, index: Int, truncate: Bool = false, faults: FaultInjector?) throws(AuditError) {
        if let code = faults?.error(for: .open) { throw .io(operation: "open", path: path, errno: code) }
        let flags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (truncate ? O_TRUNC : 0)
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
        self.faults = faults
    }

    deinit { if self.fd >= 0 { close(self.fd) } }

    func append(_ bytes: [UInt8]) throws(AuditError) {
        if let code = self.faults?.error(for: .write) { throw .io(operation: "write", path: self.path, errno: code) }
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { write(self.fd, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                throw .io(operation: "write", path: self.path, errno: errno)
            }
            offset += written
            self.size += written
        }
    }

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
