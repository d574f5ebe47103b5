import Glibc

/// Finds the regions of a text worth running anchored rules on, so rules without a keyword do not scan the whole text.
enum CandidateWindows {
    /// A region plus the most digits seen in one digit run inside it.
    struct Window {
        var range: Range<Int>
        var digits: Int
    }

    /// Windows around every occurrence of `byte`: `before` bytes back, `after` bytes on; overlapping ones merged.
    static func aroundByte(_ byte: UInt8, in text: UnsafeBufferPointer<UInt8>, before: Int, after: Int) -> [Window] {
        guard let base = text.baseAddress else { return [] }
        var windows: [Window] = []
        var position = 0
        while position < text.count {
            guard let found = memchr(base + position, Int32(byte), text.count - position) else { break }
            let index = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
            let range = max(0, index - before)..<min(text.count, index + after + 1)
            if let last = windows.last, last.range.upperBound >= range.lowerBound {
                windows[windows.count - 1].range = last.range.lowerBound..<range.upperBound
            } else {
                windows.append(Window(range: range, digits: 0))
            }
            position = index + 1
        }
        return windows
    }

    /// Windows around runs of digits (separators of up to `maxGap` non-alphanumeric bytes allowed inside a run) with
    /// at least `minimumDigits` digits; `pad` bytes are added on each side for prefixes such as `+`, `(` or the
    /// letters of an IBAN.
    static func aroundDigitRuns(in text: UnsafeBufferPointer<UInt8>, minimumDigits: Int, pad: Int, maxGap: Int = 3)
        -> [Window]
    {
        guard let base = text.baseAddress else { return [] }
        let count = text.count
        var windows: [Window] = []
        var index = 0
        while index < count {
            index = nextDigit(base, from: index, count: count)
            guard index < count else { break }
            let runStart = index
            var runEnd = index
            var digits = 0
            var gap = 0
            while index < count {
                let byte = base[index]
                if byte &- 48 < 10 {
                    digits += 1
                    gap = 0
                    runEnd = index + 1
                } else {
                    // Letters end a run: digits inside hex hashes and identifiers are not numbers.
                    if (byte | 0x20) &- UInt8(ascii: "a") < 26 { break }
                    gap += 1
                    if gap > maxGap { break }
                }
                index += 1
            }
            index = runEnd
            guard digits >= minimumDigits else { continue }
            let range = max(0, runStart - pad)..<min(count, runEnd + pad)
            if let last = windows.last, last.range.upperBound >= range.lowerBound {
                windows[windows.count - 1].range = last.range.lowerBound..<range.upperBound
                windows[windows.count - 1].digits = max(last.digits, digits)
            } else {
                windows.append(Window(range: range, digits: digits))
            }
        }
        return windows
    }

    /// Index of the next ASCII digit at or after `from`, or `count`; skips eight non-digit bytes at a time.
    @inline(__always)
    static func nextDigit(_ base: UnsafePointer<UInt8>, from start: Int, count: Int) -> Int {
        var index = start
        let raw = UnsafeRawPointer(base)
        while index + 8 <= count {
            // XOR with '0' maps digits to 0...9; "some byte < 10" is the classic has-less-than bit trick.
            let word = raw.loadUnaligned(fromByteOffset: index, as: UInt64.self) ^ 0x3030_3030_3030_3030
            let hasDigit = (word &- 0x0A0A_0A0A_0A0A_0A0A) & ~word & 0x8080_8080_8080_8080
            if hasDigit != 0 { break }
            index += 8
        }
        while index < count {
            if base[index] &- 48 < 10 { return index }
            index += 1
        }
        return count
    }
}
