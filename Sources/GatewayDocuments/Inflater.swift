/// zlib inflation (`ZlibInflation`) under an `ExtractionBudget`: every byte produced is charged to the budget as it
/// is produced, so a bomb stops at the limit, not after filling memory.
enum Inflater {
    enum Wrapping {
        /// Raw deflate (ZIP members).
        case raw
        /// zlib-wrapped (PDF FlateDecode streams).
        case zlib
    }

    /// Inflates `input`. With `expected`, stops with `.damaged` when the output would pass it (a ZIP member
    /// larger than its header declares).
    /// - Parameter keep: false to only measure (and charge) the output, returning nothing.
    /// - Parameter tolerateTruncation: return what was inflated when the input ends early (PDF streams often
    ///   carry trailing garbage or lack an end marker; readers accept them).
    static func inflate(_ input: UnsafeBufferPointer<UInt8>, wrapping: Wrapping, expected: Int? = nil,
                        budget: ExtractionBudget, tolerateTruncation: Bool = false, keep: Bool = true)
        throws(DocumentError) -> [UInt8]
    {
        var output: [UInt8] = []
        if let expected, keep { output.reserveCapacity(min(expected, 16 << 20)) }
        var total = 0
        let ending = try ZlibInflation.run(input, windowBits: wrapping == .raw ? -15 : 15) { (chunk) throws(DocumentError) in
            try budget.spendDecompressed(chunk.count)
            total += chunk.count
            if keep { output.append(contentsOf: chunk) }
            if let expected, total > expected { throw .damaged("a member is larger than its header says") }
            if total > 1 << 20 && total / max(1, input.count) > budget.limits.maximumCompressionRatio {
                throw .limitExceeded(limit: "compression_ratio",
                                     detail: "expands more than \(budget.limits.maximumCompressionRatio):1 (a bomb)")
            }
        }
        switch ending {
        case .complete: return output
        case .truncated:
            if tolerateTruncation { return output }
            throw .damaged("compressed data is truncated")
        case .corrupt(let status):
            if tolerateTruncation { return output }
            throw .damaged("compressed data is corrupt (zlib status \(status))")
        case .initialisationFailed:
            throw .damaged("zlib initialisation failed")
        }
    }
}
