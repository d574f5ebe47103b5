import CZlib

/// zlib inflation under an `ExtractionBudget`: every byte produced is charged to the budget as it is produced, so
/// a bomb stops at the limit, not after filling memory.
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
        var stream = z_stream()
        guard CZlib_inflateInit2(&stream, wrapping == .raw ? -15 : 15) == Z_OK else {
            throw .damaged("zlib initialisation failed")
        }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        if let expected { output.reserveCapacity(min(expected, 16 << 20)) }
        let chunk = 64 * 1024
        var buffer = [UInt8](repeating: 0, count: chunk)
        stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
        stream.avail_in = UInt32(input.count)
        var status: Int32 = Z_OK
        var total = 0
        repeat {
            let produced = buffer.withUnsafeMutableBufferPointer { out -> Int in
                stream.next_out = out.baseAddress
                stream.avail_out = UInt32(chunk)
                status = CZlib.inflate(&stream, Z_NO_FLUSH)
                return chunk - Int(stream.avail_out)
            }
            guard status == Z_OK || status == Z_STREAM_END || (status == Z_BUF_ERROR && produced > 0) else {
                if tolerateTruncation { return output }
                throw .damaged("compressed data is corrupt (zlib status \(status))")
            }
            try budget.spendDecompressed(produced)
            total += produced
            if keep { output.append(contentsOf: buffer.prefix(produced)) }
            if let expected, total > expected { throw .damaged("a member is larger than its header says") }
            if total > 1 << 20 && total / max(1, input.count) > budget.limits.maximumCompressionRatio {
                throw .limitExceeded(limit: "compression_ratio",
                                     detail: "expands more than \(budget.limits.maximumCompressionRatio):1 (a bomb)")
            }
            if produced == 0 && stream.avail_in == 0 && status != Z_STREAM_END {
                if tolerateTruncation { return output }
                throw .damaged("compressed data is truncated")
            }
        } while status != Z_STREAM_END
        return output
    }
}
