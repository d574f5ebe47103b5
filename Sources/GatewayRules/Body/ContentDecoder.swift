import Foundation
import CZlib

/// Undoes `Content-Encoding` (gzip, deflate, identity; comma lists applied in reverse) with size and ratio caps.
enum ContentDecoder {
    /// Returns the decoded body and whether any decoding was applied.
    static func decode(_ body: [UInt8], contentEncoding: String?, limits: BodyLimits) throws(InspectionError)
        -> (bytes: [UInt8], decoded: Bool)
    {
        let codings = (contentEncoding ?? "").split(separator: ",").map {
            $0.trimmingCharacters(in: .whitespaces).lowercased()
        }.filter { !$0.isEmpty && $0 != "identity" }
        var bytes = body
        for coding in codings.reversed() {
            switch coding {
            case "gzip", "x-gzip": bytes = try inflate(bytes, windowBits: 15 + 16, limits: limits)
            case "deflate":
                // RFC 9110 "deflate" is zlib-wrapped; some clients send raw deflate, so fall back to that.
                do throws(InspectionError) { bytes = try inflate(bytes, windowBits: 15, limits: limits) } catch {
                    if case .tooLarge = error { throw error }
                    bytes = try inflate(bytes, windowBits: -15, limits: limits)
                }
            default: throw .unsupportedEncoding(coding)
            }
        }
        return (bytes, !codings.isEmpty)
    }

    /// Inflates with zlib; throws `.tooLarge` past the size cap or the bomb ratio, `.invalidBody` on corrupt data.
    static func inflate(_ input: [UInt8], windowBits: Int32, limits: BodyLimits) throws(InspectionError) -> [UInt8] {
        var stream = z_stream()
        guard CZlib_inflateInit2(&stream, windowBits) == Z_OK else { throw .invalidBody("zlib initialisation failed") }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        let chunk = 64 * 1024
        var buffer = [UInt8](repeating: 0, count: chunk)
        var input = input
        let inputCount = input.count
        var status: Int32 = Z_OK
        try input.withUnsafeMutableBufferPointer { (inputPointer) throws(InspectionError) in
            stream.next_in = inputPointer.baseAddress
            stream.avail_in = UInt32(inputCount)
            repeat {
                let produced = buffer.withUnsafeMutableBufferPointer { out -> Int in
                    stream.next_out = out.baseAddress
                    stream.avail_out = UInt32(chunk)
                    status = CZlib.inflate(&stream, Z_NO_FLUSH)
                    return chunk - Int(stream.avail_out)
                }
                guard status == Z_OK || status == Z_STREAM_END || (status == Z_BUF_ERROR && produced > 0) else {
                    throw .invalidBody("compressed body is corrupt (zlib status \(status))")
                }
                output.append(contentsOf: buffer.prefix(produced))
                if output.count > limits.maximumDecodedBytes {
                    throw .tooLarge("decompressed body exceeds \(limits.maximumDecodedBytes) bytes")
                }
                if output.count > limits.ratioCheckFloor && output.count / max(1, inputCount) > limits.maximumCompressionRatio {
                    throw .tooLarge("compression ratio above \(limits.maximumCompressionRatio):1 (decompression bomb)")
                }
                if produced == 0 && stream.avail_in == 0 && status != Z_STREAM_END {
                    throw .invalidBody("compressed body is truncated")
                }
            } while status != Z_STREAM_END
        }
        return output
    }
}
