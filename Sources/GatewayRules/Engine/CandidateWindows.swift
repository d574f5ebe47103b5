import CPCRE2
import Glibc

/// Finds the regions of a text worth running anchored rules on, so rules without a keyword do not scan the whole text.
enum CandidateWindows {
    /// A region plus the most digits seen in one digit run inside it.
    struct Window {
        var range: Range<Int>
        var digits: Int
        /// `DigitShape` bits present in the window (digit-run windows only).
        var shapes: UInt16 = 0
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
    /// letters of an IBAN. Each window also records the `DigitShape`s found in it (see `shapes(ofRun:)`); the
    /// ranges and digit counts do not depend on the shapes.
    static func aroundDigitRuns(in text: UnsafeBufferPointer<UInt8>, minimumDigits: Int, pad: Int, maxGap: Int = 3)
        -> [Window]
    {
        guard let base = text.baseAddress else { return [] }
        let count = text.count
        var windows: [Window] = []
        // Starts of runs that follow two upper-case letters and begin with two digits (IBAN check digits), any length.
        var ibanStarts: [Int] = []
        precondition(count <= Int(UInt32.max), "text too large for 32-bit offsets")
        let capacity = 256
        withUnsafeTemporaryAllocation(of: gw_digit_run.self, capacity: capacity) { runs in
            var next = 0
            while next < count {
                var stop = count
                let got = gw_digit_runs_blocks(base, count, next, maxGap, minimumDigits, runs.baseAddress, capacity, &stop)
                for slot in 0..<got {
                    let run = runs[slot]
                    let runStart = Int(run.start), runEnd = Int(run.end), digits = Int(run.digits)
                    if run.iban != 0 { ibanStarts.append(runStart) }
                    guard digits >= minimumDigits else { continue }
                    let shapes = Self.shapes(ofRun: base, runStart..<runEnd)
                    let range = max(0, runStart - pad)..<min(count, runEnd + pad)
                    if let last = windows.last, last.range.upperBound >= range.lowerBound {
                        windows[windows.count - 1].range = last.range.lowerBound..<range.upperBound
                        windows[windows.count - 1].digits = max(last.digits, digits)
                        windows[windows.count - 1].shapes |= shapes
                    } else {
                        windows.append(Window(range: range, digits: digits, shapes: shapes))
                    }
                }
                next = stop
            }
        }
        if !ibanStarts.isEmpty, !windows.isEmpty {
            var slot = 0
            for start in ibanStarts {
                while slot < windows.count && windows[slot].range.upperBound <= start { slot += 1 }
                guard slot < windows.count else { break }
                if windows[slot].range.contains(start) { windows[slot].shapes |= DigitShape.ibanBit }
            }
        }
        return windows
    }

    /// The raw runs of the C scanners, for the equivalence tests: `blocks` picks `gw_digit_runs_blocks` (the one
    /// `aroundDigitRuns` uses), otherwise the byte-by-byte `gw_digit_runs`; `capacity` exercises restarts.
    static func rawDigitRuns(in text: UnsafeBufferPointer<UInt8>, minimumDigits: Int, maxGap: Int, capacity: Int,
                             blocks: Bool) -> [[Int]]
    {
        guard let base = text.baseAddress else { return [] }
        var result: [[Int]] = []
        withUnsafeTemporaryAllocation(of: gw_digit_run.self, capacity: capacity) { runs in
            var next = 0
            while next < text.count {
                var stop = text.count
                let got = blocks
                    ? gw_digit_runs_blocks(base, text.count, next, maxGap, minimumDigits, runs.baseAddress, capacity, &stop)
                    : gw_digit_runs(base, text.count, next, maxGap, minimumDigits, runs.baseAddress, capacity, &stop)
                for slot in 0..<got {
                    let run = runs[slot]
                    result.append([Int(run.start), Int(run.end), Int(run.digits), Int(run.iban)])
                }
                next = stop
            }
        }
        return result
    }

    /// An ASCII letter of either case (`| 0x20` folds upper case onto lower case).
    @inline(__always) static func isLetter(_ byte: UInt8) -> Bool { (byte | 0x20) &- UInt8(ascii: "a") < 26 }

    /// The `DigitShape` bits (all but `iban`) of one digit run `base[run]` (first and last byte are digits).
    static func shapes(ofRun base: UnsafePointer<UInt8>, _ run: Range<Int>) -> UInt16 {
        var shapes: UInt16 = 0
        let start = run.lowerBound
        // A NINO's two letters come right before its digits, or before one space and its digits.
        var ninoPrefix = false
        if start >= 1 {
            let before = base[start - 1]
            if before == UInt8(ascii: "+") { shapes |= DigitShape.phoneBit }
            if isLetter(before) {
                ninoPrefix = start >= 2 && isLetter(base[start - 2])
            } else if before == 0x20 {
                ninoPrefix = start >= 3 && isLetter(base[start - 2]) && isLetter(base[start - 3])
            }
        }
        // A NINO's digits: six, in groups of whole pairs (`123456`, `12 34 56`, `12 3456`) with single spaces.
        var groups = 0, digitCount = 0, pairsSpaced = true
        // The last four groups before the current one (most recent first) and the single-byte separators in front of
        // the current group and of each of them (0 when the gap was not exactly one byte).
        var length1 = 0, length2 = 0, length3 = 0
        var separator0: UInt8 = 0, separator1: UInt8 = 0, separator2: UInt8 = 0
        var index = start
        while index < run.upperBound {
            let groupStart = index
            while index < run.upperBound && base[index] &- 48 < 10 { index += 1 }
            let length = index - groupStart
            let s0 = separator0, s1 = separator1, s2 = separator2
            groups += 1
            digitCount += length
            if length % 2 != 0 || (groups > 1 && s0 != 0x20) { pairsSpaced = false }
            switch length {
            case 9: shapes |= DigitShape.nineBit
            case 13...19: shapes |= DigitShape.cardBit
            default: break
            }
            let spaceOrDash0 = s0 == 0x20 || s0 == UInt8(ascii: "-")
            if s0 == UInt8(ascii: "."), s1 == s0, length1 == 2, length2 == 3, length == 4 { shapes |= DigitShape.ssnBit }
            if spaceOrDash0 && s1 == s0 {
                if length1 == 2 && length2 == 3 && length == 4 { shapes |= DigitShape.ssnBit }
                if length1 == 3 && length2 == 3 && length == 3 { shapes |= DigitShape.sinBit }
                if length2 == 4 && length1 == 6 && (length == 4 || length == 5) { shapes |= DigitShape.cardBit }
                if s2 == s0 && length3 == 4 && length2 == 4 && length1 == 4 && length == 4 { shapes |= DigitShape.cardBit }
            }
            if length == 4 && length1 == 3 && (spaceOrDash0 || s0 == UInt8(ascii: ".")) { shapes |= DigitShape.phoneBit }
            guard index < run.upperBound else { break }
            // The gap up to the next group (the run ends with a digit, so there is one).
            let gapStart = index
            while base[index] &- 48 >= 10 {
                if base[index] == UInt8(ascii: "+") && base[index + 1] &- 48 < 10 { shapes |= DigitShape.phoneBit }
                index += 1
            }
            length3 = length2; length2 = length1; length1 = length
            separator2 = separator1; separator1 = separator0
            separator0 = index - gapStart == 1 ? base[gapStart] : 0
        }
        if ninoPrefix && digitCount == 6 && pairsSpaced { shapes |= DigitShape.ninoBit }
        return shapes
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
