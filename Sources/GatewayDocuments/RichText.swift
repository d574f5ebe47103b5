/// The text of an RTF document: control words and groups of destinations that hold no text (font tables,
/// pictures) removed, `\'hh` and `\uN` escapes decoded.
enum RichText {
    /// Destinations whose content is not document text.
    static let skippedDestinations: Set<String> = [
        "fonttbl", "colortbl", "stylesheet", "pict", "themedata", "colorschememapping", "datastore", "latentstyles",
        "listtable", "listoverridetable", "rsidtbl", "generator", "xmlnstbl", "wgrffmtfilter", "mmathPr",
    ]

    static func plainText(_ rtf: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(rtf.count / 2)
        var skipDepth: Int?
        var depth = 0
        var index = 0
        var pendingSkip = 0  // characters to skip after \uN (the \ucN fallback)
        var fallbackLength = 1  // \ucN: how many fallback characters follow each \uN
        while index < rtf.count {
            let byte = rtf[index]
            switch byte {
            case UInt8(ascii: "{"):
                depth += 1
                index += 1
            case UInt8(ascii: "}"):
                if let skip = skipDepth, depth <= skip { skipDepth = nil }
                depth -= 1
                index += 1
            case UInt8(ascii: "\\"):
                index += 1
                guard index < rtf.count else { break }
                let next = rtf[index]
                if next == UInt8(ascii: "'"), index + 2 < rtf.count, let high = TransferDecoding.hexDigitValue(rtf[index + 1]),
                   let low = TransferDecoding.hexDigitValue(rtf[index + 2])
                {
                    if skipDepth == nil && pendingSkip == 0 {
                        out.append(contentsOf: Array(String(Character(Unicode.Scalar(high << 4 | low))).utf8))
                    }
                    pendingSkip = max(0, pendingSkip - 1)
                    index += 3
                } else if Self.isLetter(next) {
                    var end = index
                    while end < rtf.count && Self.isLetter(rtf[end]) { end += 1 }
                    let word = String(decoding: rtf[index..<end], as: UTF8.self)
                    var numberEnd = end
                    if numberEnd < rtf.count && rtf[numberEnd] == UInt8(ascii: "-") { numberEnd += 1 }
                    while numberEnd < rtf.count && rtf[numberEnd] >= 0x30 && rtf[numberEnd] <= 0x39 { numberEnd += 1 }
                    let parameter = Int(String(decoding: rtf[end..<numberEnd], as: UTF8.self))
                    index = numberEnd
                    if index < rtf.count && rtf[index] == 0x20 { index += 1 }
                    if self.skippedDestinations.contains(word) && skipDepth == nil { skipDepth = depth }
                    guard skipDepth == nil else { continue }
                    switch word {
                    case "par", "line", "row", "sect", "page": out.append(0x0A)
                    case "tab", "cell": out.append(0x09)
                    case "uc":
                        fallbackLength = min(max(parameter ?? 1, 0), 16)
                    case "u":
                        // \uN is a signed 16-bit number; anything outside a scalar's range is dropped, not trapped on.
                        let value = parameter.map { $0 < 0 ? $0 + 65536 : $0 } ?? -1
                        if (0...0x10FFFF).contains(value), let scalar = Unicode.Scalar(UInt32(value)) {
                            out.append(contentsOf: Array(String(Character(scalar)).utf8))
                        }
                        pendingSkip = fallbackLength
                    default: break
                    }
                } else if next == UInt8(ascii: "*") {
                    // `{\*\dest …}`: a destination readers may ignore. Its text is kept (annotations, text boxes and
                    // unknown destinations may be shown); only the non-text tables above are skipped.
                    index += 1
                } else {
                    if skipDepth == nil { out.append(next) }  // \\ \{ \} and others stand for themselves
                    index += 1
                }
            case 0x0A, 0x0D:
                index += 1
            default:
                if skipDepth == nil {
                    if pendingSkip > 0 { pendingSkip -= 1 } else { out.append(byte) }
                }
                index += 1
            }
        }
        return out
    }

    private static func isLetter(_ byte: UInt8) -> Bool { (byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A }
}
