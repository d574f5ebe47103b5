import Foundation
import GatewayDocuments

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

    /// Inflates with zlib (`ZlibInflation`); throws `.tooLarge` past the size cap or the bomb ratio, `.invalidBody`
    /// on corrupt data.
    static func inflate(_ input: [UInt8], windowBits: Int32, limits: BodyLimits) throws(InspectionError) -> [UInt8] {
        var output: [UInt8] = []
        let ending = try input.withUnsafeBufferPointer { (source) throws(InspectionError) -> ZlibInflation.Ending in
            try ZlibInflation.run(source, windowBits: windowBits) { (chunk) throws(InspectionError) in
                output.append(contentsOf: chunk)
                if output.count > limits.maximumDecodedBytes {
                    throw .tooLarge("decompressed body exceeds \(limits.maximumDecodedBytes) bytes")
                }
                if output.count > limits.ratioCheckFloor
                    && output.count / max(1, source.count) > limits.maximumCompressionRatio
                {
                    throw .tooLarge("compression ratio above \(limits.maximumCompressionRatio):1 (decompression bomb)")
                }
            }
        }
        switch ending {
        case .complete: return output
        case .truncated: throw .invalidBody("compressed body is truncated")
        case .corrupt(let status): throw .invalidBody("compressed body is corrupt (zlib status \(status))")
        case .initialisationFailed: throw .invalidBody("zlib initialisation failed")
        }
    }
}
