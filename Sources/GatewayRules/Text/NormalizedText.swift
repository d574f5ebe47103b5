/// A normalised copy of a text plus the map from its bytes back to the original bytes.
///
/// Byte `i` of `bytes` came from original bytes `originStart[i]..<originEnd[i]` (one source character). Characters
/// that were removed (zero-width, format) have no byte here; a span that straddles them maps back to an original
/// span that includes them, so redaction removes them too.
public struct NormalizedText: Sendable {
    public let bytes: [UInt8]
    let originStart: [Int32]
    let originEnd: [Int32]

    /// The original byte range a range of normalised bytes came from.
    public func originalRange(of range: Range<Int>) -> Range<Int> {
        guard !range.isEmpty else {
            let position = range.lowerBound < self.originStart.count ? Int(self.originStart[range.lowerBound]) : 0
            return position..<position
        }
        return Int(self.originStart[range.lowerBound])..<Int(self.originEnd[range.upperBound - 1])
    }
}
