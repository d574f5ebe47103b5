import GatewayDocuments
/// `%XX` decoding, the one implementation for form bodies, query strings and request targets.
public enum PercentEncoding {
    /// The value of one ASCII hexadecimal digit, or nil (`TransferDecoding.hexDigitValue`, the one implementation).
    @inline(__always)
    public static func hexDigitValue(_ byte: UInt8) -> UInt8? { TransferDecoding.hexDigitValue(byte) }

    /// `bytes` with every `%XX` decoded; with `plusIsSpace` (form encoding, RFC 1866) `+` is a space too. A `%` not
    /// followed by two hexadecimal digits stays as it is.
    public static func decode<Bytes: RandomAccessCollection>(_ bytes: Bytes, plusIsSpace: Bool) -> [UInt8]
    where Bytes.Element == UInt8, Bytes.Index == Int {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%"), index + 2 < bytes.endIndex,
                let high = Self.hexDigitValue(bytes[index + 1]), let low = Self.hexDigitValue(bytes[index + 2])
            {
                out.append(high << 4 | low)
                index += 3
                continue
            }
            out.append(plusIsSpace && byte == UInt8(ascii: "+") ? 0x20 : byte)
            index += 1
        }
        return out
    }
}
