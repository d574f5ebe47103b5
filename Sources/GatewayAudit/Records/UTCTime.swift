import Foundation
import Synchronization

/// UTC timestamps with millisecond precision, as records carry them: `2025-01-31T23:59:59.123Z`.
public enum UTCTime {
    /// Milliseconds since the Unix epoch, from the system clock.
    public static func nowMilliseconds() -> UInt64 {
        UInt64(max(0, Date().timeIntervalSince1970 * 1000).rounded(.down))
    }

    /// The record text for `milliseconds` since the epoch.
    public static func format(milliseconds: UInt64) -> String {
        let second = milliseconds / 1000
        // Two records per request share their second with thousands of others: the date and time up to the
        // seconds is formatted once per second (gmtime_r takes glibc's time zone lock), only the milliseconds each time.
        let prefix = Self.lastSecond.withLock { last in
            if last.second != second || last.prefix.isEmpty { last = (second, Self.prefix(second: second)) }
            return last.prefix
        }
        var text = prefix
        text.reserveCapacity(24)
        Self.append(Int32(milliseconds % 1000), width: 3, then: "Z", to: &text)
        return String(decoding: text, as: UTF8.self)
    }

    private static let lastSecond = Mutex<(second: UInt64, prefix: [UInt8])>((0, []))

    /// `YYYY-MM-DDTHH:MM:SS.` for `second` since the epoch.
    private static func prefix(second: UInt64) -> [UInt8] {
        var seconds = time_t(second)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        var text: [UInt8] = []
        text.reserveCapacity(24)
        Self.append(parts.tm_year + 1900, width: 4, then: "-", to: &text)
        Self.append(parts.tm_mon + 1, width: 2, then: "-", to: &text)
        Self.append(parts.tm_mday, width: 2, then: "T", to: &text)
        Self.append(parts.tm_hour, width: 2, then: ":", to: &text)
        Self.append(parts.tm_min, width: 2, then: ":", to: &text)
        Self.append(parts.tm_sec, width: 2, then: ".", to: &text)
        return text
    }

    /// `value` as `width` zero-padded digits, then `separator`.
    private static func append(_ value: Int32, width: Int, then separator: Unicode.Scalar, to text: inout [UInt8]) {
        var divisor: Int32 = 1
        for _ in 1..<width { divisor *= 10 }
        var rest = max(0, value)
        while divisor > 0 {
            text.append(UInt8(ascii: "0") + UInt8(truncatingIfNeeded: (rest / divisor) % 10))
            rest %= divisor
            divisor /= 10
        }
        text.append(UInt8(ascii: separator))
    }

    /// The record text for a date.
    public static func format(_ date: Date) -> String {
        format(milliseconds: UInt64(max(0, date.timeIntervalSince1970 * 1000).rounded(.down)))
    }

    /// Parses the record text back into a date; nil for anything else.
    public static func parse(_ text: String) -> Date? {
        let chars = Array(text.utf8)
        guard chars.count == 24, chars[23] == UInt8(ascii: "Z") else { return nil }
        func number(_ from: Int, _ count: Int) -> Int32? { Int32(String(decoding: chars[from..<from + count], as: UTF8.self)) }
        guard let year = number(0, 4), let month = number(5, 2), let day = number(8, 2), let hour = number(11, 2),
            let minute = number(14, 2), let second = number(17, 2), let millis = number(20, 3)
        else { return nil }
        var parts = tm()
        parts.tm_year = year - 1900
        parts.tm_mon = month - 1
        parts.tm_mday = day
        parts.tm_hour = hour
        parts.tm_min = minute
        parts.tm_sec = second
        let seconds = timegm(&parts)
        return Date(timeIntervalSince1970: TimeInterval(seconds) + TimeInterval(millis) / 1000)
    }
}
