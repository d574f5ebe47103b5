import CZlib

/// zlib's inflate loop, the one the gateway has: request bodies (`Content-Encoding`), ZIP members and PDF streams
/// all go through it, each with its own limits in `output`.
public enum ZlibInflation {
    /// How the compressed data ended.
    public enum Ending: Sendable, Equatable {
        /// The stream's end marker was reached.
        case complete
        /// The input ran out before the end marker.
        case truncated
        /// zlib refused the data (its status).
        case corrupt(Int32)
        /// zlib could not start.
        case initialisationFailed
    }

    /// Inflates `input` with zlib's `windowBits` (15: zlib, 15 + 16: gzip, −15: raw deflate), handing each chunk of
    /// output to `output` as it is produced (so limits can stop a bomb before it fills memory; `output` stops the
    /// inflation by throwing). A chunk zlib produced while failing is not handed on.
    public static func run<Failure: Error>(
        _ input: UnsafeBufferPointer<UInt8>, windowBits: Int32,
        output: (UnsafeBufferPointer<UInt8>) throws(Failure) -> Void
    ) throws(Failure) -> Ending {
        var stream = z_stream()
        guard CZlib_inflateInit2(&stream, windowBits) == Z_OK else { return .initialisationFailed }
        defer { inflateEnd(&stream) }
        let chunk = 64 * 1024
        var buffer = [UInt8](repeating: 0, count: chunk)
        stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
        stream.avail_in = UInt32(input.count)
        var status: Int32 = Z_OK
        repeat {
            let produced = buffer.withUnsafeMutableBufferPointer { out -> Int in
                stream.next_out = out.baseAddress
                stream.avail_out = UInt32(chunk)
                status = CZlib.inflate(&stream, Z_NO_FLUSH)
                return chunk - Int(stream.avail_out)
            }
            guard status == Z_OK || status == Z_STREAM_END || (status == Z_BUF_ERROR && produced > 0) else {
                return .corrupt(status)
            }
            try buffer.withUnsafeBufferPointer { (out) throws(Failure) in
                try output(UnsafeBufferPointer(rebasing: out[0..<produced]))
            }
            if produced == 0 && stream.avail_in == 0 && status != Z_STREAM_END { return .truncated }
        } while status != Z_STREAM_END
        return .complete
    }
}
