import CZlib

/// gzip compression through zlib, for tools, tests and benchmarks that need to produce `Content-Encoding: gzip`
/// bodies. (The inspector itself only decompresses.)
public enum Gzip {
    /// Compresses `input` into a gzip member.
    public static func compress(_ input: [UInt8], level: Int32 = 6) -> [UInt8] {
        var stream = z_stream()
        precondition(CZlib_deflateInit2(&stream, level, 15 + 16) == Z_OK, "zlib deflateInit2 failed")
        defer { deflateEnd(&stream) }
        var input = input
        let bound = Int(deflateBound(&stream, uLong(input.count))) + 32
        var output = [UInt8](repeating: 0, count: bound)
        let produced: Int = input.withUnsafeMutableBufferPointer { source in
            output.withUnsafeMutableBufferPointer { destination in
                stream.next_in = source.baseAddress
                stream.avail_in = UInt32(source.count)
                stream.next_out = destination.baseAddress
                stream.avail_out = UInt32(destination.count)
                let status = deflate(&stream, Z_FINISH)
                precondition(status == Z_STREAM_END, "zlib deflate did not finish (\(status))")
                return destination.count - Int(stream.avail_out)
            }
        }
        return Array(output.prefix(produced))
    }
}
