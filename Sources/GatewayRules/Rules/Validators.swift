import Foundation

/// Post-match checks that turn a regex candidate into a finding. Each takes the matched text (already normalised)
/// and ignores separators (spaces, dashes, dots) where the format allows them.
public enum Validators {
    /// Digits of `text`, or nil when it holds anything but digits and the separators space, `-`, `.`.
    static func digits(_ text: Substring) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): out.append(byte &- 48)
            case UInt8(ascii: " "), UInt8(ascii: "-"), UInt8(ascii: "."): continue
            default: return nil
            }
        }
        return out
    }

    /// Luhn (mod 10) checksum over the digits of `text`; separators allowed, at least 2 digits.
    public static func luhn(_ text: Substring) -> Bool {
        guard let digits = digits(text), digits.count >= 2 else { return false }
        return luhnDigits(digits)
    }

    /// The digit count of `text` (separators ` -.` allowed) and whether it passes Luhn, in one pass over the bytes
    /// from the end; nil when another byte occurs.
    static func luhnScan(_ text: Substring) -> (count: Int, valid: Bool)? {
        var sum = 0
        var count = 0
        for byte in text.utf8.reversed() {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                var value = Int(byte &- 48)
                if count & 1 == 1 {
                    value *= 2
                    if value > 9 { value -= 9 }
                }
                sum += value
                count += 1
            case UInt8(ascii: " "), UInt8(ascii: "-"), UInt8(ascii: "."): continue
            default: return nil
            }
        }
        return (count, sum % 10 == 0)
    }

    static func luhnDigits(_ digits: [UInt8]) -> Bool {
        var sum = 0
        for (position, digit) in digits.reversed().enumerated() {
            var value = Int(digit)
            if position % 2 == 1 {
                value *= 2
                if value > 9 { value -= 9 }
            }
            sum += value
        }
        return sum % 10 == 0
    }

    /// Payment card: 13-19 digits, Luhn-valid, and a length that fits the issuer's range (Visa 4; Mastercard 51-55,
    /// 2221-2720; Amex 34/37; Discover 6011/644-649/65; JCB 3528-3589; Diners 300-305/36/38/39; UnionPay 62;
    /// Maestro 50/56-69; Mir 2200-2204; UATP 1, 15 digits).
    public static func paymentCard(_ text: Substring) -> Bool {
        // Length and Luhn first, without allocating: most candidates (any 16 digits in groups) fail here.
        guard let (count, valid) = luhnScan(text), (13...19).contains(count), valid, let digits = digits(text)
        else { return false }
        if Set(digits).count == 1 { return false }
        func prefix(_ count: Int) -> Int { digits.prefix(count).reduce(0) { $0 * 10 + Int($1) } }
        let length = digits.count
        switch digits[0] {
        case 1: return length == 15  // UATP (airline travel cards)
        case 4: return true
        case 5:
            if (51...55).contains(prefix(2)) { return length == 16 }
            return prefix(2) == 50 || (56...59).contains(prefix(2))  // Maestro
        case 2:
            if (2221...2720).contains(prefix(4)) { return length == 16 }
            return (2200...2204).contains(prefix(4)) && length >= 16
        case 3:
            if prefix(2) == 34 || prefix(2) == 37 { return length == 15 }
            if (3528...3589).contains(prefix(4)) { return length >= 16 }
            if (300...305).contains(prefix(3)) || [36, 38, 39].contains(prefix(2)) { return length >= 14 }
            return false
        case 6:
            if prefix(4) == 6011 || (644...649).contains(prefix(3)) || prefix(2) == 65 || prefix(2) == 62 { return length >= 16 }
            return true  // Maestro 6x
        default: return false
        }
    }

    /// Phone number: 7 to 15 digits (E.164 maximum), not all one digit.
    public static func phone(_ text: Substring) -> Bool {
        var digits: [UInt8] = []
        for byte in text.utf8 where byte &- 48 < 10 { digits.append(byte) }
        return (7...15).contains(digits.count) && Set(digits).count > 1
    }

    /// IBAN lengths per country (ISO 13616 registry).
    static let ibanLengths: [String: Int] = [
        "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BI": 27, "BR": 29,
        "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27, "DK": 18, "DO": 28, "EE": 20, "EG": 29,
        "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28,
        "HN": 28,
        "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28,
        "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20,
        "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29,
        "RO": 24, "RS": 22, "RU": 33, "SA": 24, "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23,
        "ST": 25, "SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
    ]

    /// IBAN: known country, that country's length, and ISO 7064 mod-97 = 1. Spaces are allowed anywhere.
    public static func iban(_ text: Substring) -> Bool {
        var chars: [UInt8] = []
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "-"): continue
            case UInt8(ascii: "a")...UInt8(ascii: "z"): chars.append(byte - 32)
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): chars.append(byte)
            default: return false
            }
        }
        guard chars.count >= 15 else { return false }
        let country = String(decoding: chars.prefix(2), as: UTF8.self)
        guard let expected = ibanLengths[country], expected == chars.count else { return false }
        guard chars[2] >= 48 && chars[2] <= 57 && chars[3] >= 48 && chars[3] <= 57 else { return false }
        let rearranged = chars[4...] + chars[0..<4]
        var remainder = 0
        for char in rearranged {
            if char >= 48 && char <= 57 {
                remainder = (remainder * 10 + Int(char - 48)) % 97
            } else {
                remainder = (remainder * 100 + Int(char - 55)) % 97
            }
        }
        return remainder == 1
    }

    /// US SSN: 9 digits; area not 000, 666 or 9xx; group not 00; serial not 0000; not all one digit; not the
    /// well-known published samples.
    public static func usSSN(_ text: Substring) -> Bool {
        guard let digits = digits(text), digits.count == 9 else { return false }
        let area = Int(digits[0]) * 100 + Int(digits[1]) * 10 + Int(digits[2])
        let group = Int(digits[3]) * 10 + Int(digits[4])
        let serial = digits[5...].reduce(0) { $0 * 10 + Int($1) }
        if area == 0 || area == 666 || area >= 900 { return false }
        if group == 0 || serial == 0 { return false }
        if Set(digits).count == 1 { return false }
        let joined = digits.map { String($0) }.joined()
        if joined == "123456789" || joined == "078051120" || joined == "219099999" { return false }
        return true
    }

    /// Canadian SIN: 9 digits, Luhn-valid, first digit 1-7 or 9 (0 is unassigned, 8 is not used).
    public static func caSIN(_ text: Substring) -> Bool {
        guard let digits = digits(text), digits.count == 9 else { return false }
        guard digits[0] != 0 && digits[0] != 8 else { return false }
        if Set(digits).count == 1 { return false }
        return luhnDigits(digits)
    }

    /// US ABA routing number: 9 digits, 3-7-1 weighted sum divisible by 10, first two digits in the Federal
    /// Reserve ranges (00-12, 21-32, 61-72, 80).
    public static func abaRouting(_ text: Substring) -> Bool {
        guard let digits = digits(text), digits.count == 9 else { return false }
        let prefix = Int(digits[0]) * 10 + Int(digits[1])
        guard (0...12).contains(prefix) || (21...32).contains(prefix) || (61...72).contains(prefix) || prefix == 80
        else { return false }
        let weights = [3, 7, 1, 3, 7, 1, 3, 7, 1]
        let sum = zip(digits, weights).reduce(0) { $0 + Int($1.0) * $1.1 }
        return sum % 10 == 0 && Set(digits).count > 1
    }

    /// Shannon entropy of the bytes of `text`, in bits per character.
    public static func shannonEntropy(_ text: Substring) -> Double {
        // On the stack, and summed over the bytes that occur only: a flood of candidates made this loop, over all
        // 256 counts with a heap array each, the scan's largest cost (bench/rules-bench --hostile).
        var text = text
        return text.withUTF8 { bytes in
            guard !bytes.isEmpty else { return 0 }
            return withUnsafeTemporaryAllocation(of: Int32.self, capacity: 256) { counts in
                withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 256) { seen in
                    counts.initialize(repeating: 0)
                    var distinct = 0
                    for byte in bytes {
                        if counts[Int(byte)] == 0 {
                            seen[distinct] = byte
                            distinct += 1
                        }
                        counts[Int(byte)] += 1
                    }
                    let total = Double(bytes.count)
                    var entropy = 0.0
                    for index in 0..<distinct {
                        let p = Double(counts[Int(seen[index])]) / total
                        entropy -= p * log2(p)
                    }
                    return entropy
                }
            }
        }
    }

    /// A credential-shaped value that is a documentation placeholder, not a credential: a run of five or more of
    /// `x`, `X`, `Z`, `0`, `#` or `*` (or eight of any one character), `EXAMPLE` (AWS's documented keys), or
    /// `DEADBEEF` twice. A random token has such a run with negligible probability (62^-4 per place for five of one
    /// chosen character). Applies to every rule of category `secret`, for values up to 200 bytes: a private key's
    /// base64 legitimately holds long runs (`AAAA…` for zero bytes).
    public static func isPlaceholder(_ value: Substring) -> Bool {
        var value = value
        return value.withUTF8 { Self.isPlaceholder(bytes: $0) }
    }

    /// `isPlaceholder` on bytes: one pass, no string search (it runs on every candidate a secret rule accepts).
    static func isPlaceholder(bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard bytes.count <= 200 else { return false }
        var previous: UInt8 = 0
        var run = 0
        for (index, byte) in bytes.enumerated() {
            run = byte == previous ? run + 1 : 1
            previous = byte
            switch byte {
            case UInt8(ascii: "x"), UInt8(ascii: "X"), UInt8(ascii: "Z"), UInt8(ascii: "0"), UInt8(ascii: "#"),
                UInt8(ascii: "*"):
                if run >= 5 { return true }
            case UInt8(ascii: "E") where Self.has(Self.example, in: bytes, at: index):
                return true
            case UInt8(ascii: "D") where Self.has(Self.deadBeefTwice, in: bytes, at: index):
                return true
            default:
                break
            }
            if run >= 8 { return true }
        }
        return false
    }

    private static let example = Array("EXAMPLE".utf8)
    private static let deadBeefTwice = Array("DEADBEEFDEADBEEF".utf8)

    private static func has(_ word: [UInt8], in bytes: UnsafeBufferPointer<UInt8>, at index: Int) -> Bool {
        guard bytes.count - index >= word.count else { return false }
        for offset in 0..<word.count where bytes[index + offset] != word[offset] { return false }
        return true
    }

    /// JWT: three base64url parts separated by dots (the signature may be empty: `alg: none`), or an unsigned token
    /// of two parts whose payload decodes to a JSON object; the header decodes to a JSON object with an `alg` string.
    public static func jwt(_ text: Substring) -> Bool {
        // Bytes only, no Foundation: a body can hold thousands of candidates (bench/rules-bench --hostile).
        let bytes = Array(text.utf8)
        var dots: [Int] = []
        for (index, byte) in bytes.enumerated() {
            if byte == UInt8(ascii: ".") {
                dots.append(index)
                if dots.count > 2 { return false }
            } else if !isBase64URL(byte) {
                return false
            }
        }
        // The signature may be empty or missing (alg "none"); header and payload may not.
        guard (1...2).contains(dots.count), dots[0] > 0, (dots.count == 1 ? bytes.count : dots[1]) > dots[0] + 1,
            let header = base64URLDecode(bytes[..<dots[0]])
        else { return false }
        if dots.count == 1 {
            guard let payload = base64URLDecode(bytes[(dots[0] + 1)...]), payload.first == UInt8(ascii: "{") else {
                return false
            }
        }
        if header.withUnsafeBufferPointer({ Self.isJSONObjectWithStringMember("alg", $0) }) { return true }
        // A header damaged inside (a byte changed between `{"alg":` and the closing `}`) does not make the token
        // harmless: the payload and signature are intact, and repairing the header is trivial. Accepted when the
        // header still opens with the `alg` member and closes as an object, a signature is present and the payload
        // decodes to a JSON object. A header that is garbage from the start, or cut short, is not a JWT.
        guard dots.count == 2, dots[1] + 1 < bytes.count, Self.isDamagedJWTHeader(header),
            let payload = base64URLDecode(bytes[(dots[0] + 1)..<dots[1]])
        else { return false }
        return payload.withUnsafeBufferPointer { Self.isJSONObject($0) }
    }

    private static let algOpening = Array(#"{"alg":"#.utf8)

    /// `{"alg":` first (JSON whitespace allowed after `{`) and `}` last (whitespace allowed after it).
    static func isDamagedJWTHeader(_ header: [UInt8]) -> Bool {
        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 }
        guard header.first == UInt8(ascii: "{") else { return false }
        var index = 1
        while index < header.count && isSpace(header[index]) { index += 1 }
        guard header.count - index >= algOpening.count - 1,
            Array(header[index..<(index + algOpening.count - 1)]) == Array(algOpening[1...])
        else { return false }
        var last = header.count - 1
        while last > index && isSpace(header[last]) { last -= 1 }
        return header[last] == UInt8(ascii: "}")
    }

    /// Whether `json` is a JSON object the gateway's JSON reader accepts.
    static func isJSONObject(_ json: UnsafeBufferPointer<UInt8>) -> Bool {
        guard json.first == UInt8(ascii: "{") else { return false }
        var walker = JSONStringWalker(body: json, maximumDepth: 32)
        do throws(InspectionError) {
            try walker.walk { _, _ in }
        } catch {
            return false
        }
        return true
    }

    /// Whether `json` is a JSON object whose top-level member `name` is a string (read by the gateway's one JSON
    /// reader, so a header the vendor could not parse is no JWT either).
    static func isJSONObjectWithStringMember(_ name: String, _ json: UnsafeBufferPointer<UInt8>) -> Bool {
        guard json.first == UInt8(ascii: "{") else { return false }
        let wanted = Array(name.utf8)
        var walker = JSONStringWalker(body: json, maximumDepth: 32)
        var found = false
        do throws(InspectionError) {
            try walker.walk { literal, path in
                guard !literal.isKey, path.steps.count == 1, case .key(let key) = path.steps[0] else { return }
                if JSONStringCodec.decode(json, literal: key) == wanted { found = true }
            }
        } catch {
            return false
        }
        return found
    }

    private static func isBase64URL(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "="):
            return true
        default: return false
        }
    }

    /// Decodes base64url (or base64) without padding requirements; nil on any other byte or an impossible length.
    static func base64URLDecode(_ text: Substring) -> [UInt8]? { Self.base64URLDecode(Array(text.utf8)[...]) }

    static func base64URLDecode(_ text: ArraySlice<UInt8>) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(text.count * 3 / 4)
        var accumulator: UInt32 = 0
        var bits = 0
        for byte in text where byte != UInt8(ascii: "=") {
            let value: UInt32
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = UInt32(byte - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = UInt32(byte - UInt8(ascii: "a") + 26)
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = UInt32(byte - UInt8(ascii: "0") + 52)
            case UInt8(ascii: "-"), UInt8(ascii: "+"): value = 62
            case UInt8(ascii: "_"), UInt8(ascii: "/"): value = 63
            default: return nil
            }
            accumulator = accumulator << 6 | value
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
        }
        return bits >= 6 ? nil : out  // a lone trailing character carries no whole byte
    }
}
