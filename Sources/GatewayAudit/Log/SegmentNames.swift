import Foundation

/// Segment file names: `audit-000001.jsonl`, numbered from 1 without gaps. A torn tail set aside at start-up goes
/// to `audit-000001.jsonl.torn` (numbered `.torn.2`, … when that exists).
public enum SegmentNames {
    public static let prefix = "audit-"
    public static let suffix = ".jsonl"

    public static func name(_ index: Int) -> String {
        let digits = String(index)
        return prefix + String(repeating: "0", count: max(0, 6 - digits.count)) + digits + suffix
    }

    /// The segment numbers present in `directory`, ascending.
    public static func list(in directory: String) -> [Int] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.compactMap { name -> Int? in
            guard name.hasPrefix(prefix), name.hasSuffix(suffix) else { return nil }
            return Int(name.dropFirst(prefix.count).dropLast(suffix.count))
        }.sorted()
    }

    /// Splits file content into complete lines (without `\n`) and the bytes after the last `\n` (a torn tail).
    /// Trailing NUL bytes are space the writer reserved ahead of its lines (see `SegmentFile`), not content: they
    /// are neither lines nor tail. A NUL anywhere else stays in its line or the tail, where it fails parsing.
    static func lines(_ bytes: [UInt8]) -> (lines: [ArraySlice<UInt8>], tail: ArraySlice<UInt8>) {
        var end = bytes.count
        while end > 0, bytes[end - 1] == 0 { end -= 1 }
        var lines: [ArraySlice<UInt8>] = []
        var start = 0
        for index in 0..<end where bytes[index] == UInt8(ascii: "\n") {
            lines.append(bytes[start..<index])
            start = index + 1
        }
        return (lines, bytes[start..<end])
    }
}
