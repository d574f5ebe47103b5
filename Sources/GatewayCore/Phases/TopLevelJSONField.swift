/// Reads one top-level string member (such as `"model"`) of a JSON object without parsing the whole document.
///
/// Nested values are skipped by tracking brackets and strings, so a `"model"` inside a message never counts. Returns
/// nil for anything that is not an object with that member as a string (the classifier reports invalid JSON).
enum TopLevelJSONField {
    static func string<Bytes: RandomAccessCollection>(named name: String, in bytes: Bytes) -> String?
    where Bytes.Element == UInt8, Bytes.Index == Int {
        let wanted = Array(name.utf8)
        var index = bytes.startIndex
        func skipWhitespace() { while index < bytes.endIndex, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 } }
        /// Reads a string starting at the opening quote; returns its raw (still escaped) bytes.
        func readString() -> Bytes.SubSequence? {
            guard index < bytes.endIndex, bytes[index] == 0x22 else { return nil }
            let start = index + 1
            index += 1
            while index < bytes.endIndex {
                switch bytes[index] {
                case 0x5C: index += 2
                case 0x22:
                    defer { index += 1 }
                    return bytes[start..<index]
                default: index += 1
                }
            }
            return nil
        }
        /// Skips one value of any kind.
        func skipValue() -> Bool {
            skipWhitespace()
            guard index < bytes.endIndex else { return false }
            if bytes[index] == 0x22 { return readString() != nil }
            if bytes[index] == 0x7B || bytes[index] == 0x5B {
                var depth = 0
                while index < bytes.endIndex {
                    switch bytes[index] {
                    case 0x22:
                        guard readString() != nil else { return false }
                        continue
                    case 0x7B, 0x5B: depth += 1
                    case 0x7D, 0x5D:
                        depth -= 1
                        if depth == 0 {
                            index += 1
                            return true
                        }
                    default: break
                    }
                    index += 1
                }
                return false
            }
            while index < bytes.endIndex, ![0x2C, 0x7D, 0x5D].contains(bytes[index]) { index += 1 }
            return true
        }
        skipWhitespace()
        guard index < bytes.endIndex, bytes[index] == 0x7B else { return nil }
        index += 1
        while true {
            skipWhitespace()
            guard let key = readString() else { return nil }
            skipWhitespace()
            guard index < bytes.endIndex, bytes[index] == 0x3A else { return nil }
            index += 1
            skipWhitespace()
            if key.elementsEqual(wanted) {
                guard let value = readString() else { return nil }
                // Model names carry no escapes in practice; an escaped one is decoded the simple way.
                return value.contains(0x5C) ? nil : String(decoding: value, as: UTF8.self)
            }
            guard skipValue() else { return nil }
            skipWhitespace()
            guard index < bytes.endIndex, bytes[index] == 0x2C else { return nil }
            index += 1
        }
    }
}
