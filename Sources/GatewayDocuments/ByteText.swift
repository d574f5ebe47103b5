#if canImport(Glibc)
import Glibc
#endif

/// Searches over raw bytes, shared by the document readers and the HTTP layer's cheap checks on every request: no
/// String, no lower-casing, no generic collection search (each costs microseconds on a request's hot path).
public enum ByteText {
    /// The first position of `needle` in `bytes[start..<end]` (memchr for its first byte, then a compare), or nil.
    public static func firstIndex(of needle: [UInt8], in bytes: UnsafeBufferPointer<UInt8>, from start: Int = 0,
                                  to end: Int? = nil) -> Int?
    {
        let end = min(end ?? bytes.count, bytes.count)
        guard !needle.isEmpty, start < end, end - start >= needle.count, let base = bytes.baseAddress else { return nil }
        var index = start
        while index + needle.count <= end {
            guard let hit = memchr(base + index, Int32(needle[0]), end - index) else { return nil }
            let position = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
            if position + needle.count > end { return nil }
            if memcmp(base + position, needle, needle.count) == 0 { return position }
            index = position + 1
        }
        return nil
    }

    /// Whether `bytes` hold a NUL byte (memchr: every text body is checked whole, and a byte loop costs a tenth of a
    /// scan).
    public static func containsNUL(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return false }
        return memchr(base, 0, bytes.count) != nil
    }

    public static func containsNUL(_ bytes: [UInt8]) -> Bool { bytes.withUnsafeBufferPointer { containsNUL($0) } }

    /// Whether `bytes` hold the ASCII `word` at `offset`, in any letter case.
    public static func hasWord(_ word: StaticString, in bytes: UnsafeBufferPointer<UInt8>, at offset: Int = 0) -> Bool {
        guard offset >= 0, bytes.count - offset >= word.utf8CodeUnitCount else { return false }
        for index in 0..<word.utf8CodeUnitCount where bytes[offset + index] | 0x20 != word.utf8Start[index] | 0x20 {
            return false
        }
        return true
    }
}
