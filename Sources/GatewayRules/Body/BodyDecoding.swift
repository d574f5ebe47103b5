/// Public access to the body decoder for layers that need the decoded bytes themselves (e.g. reading the `model`
/// of a gzip-compressed request), with the same size and ratio caps as inspection.
public enum BodyDecoding {
    /// The body with its `Content-Encoding` undone.
    public static func decode(
        _ body: [UInt8], contentEncoding: String?, limits: BodyLimits
    ) throws(InspectionError) -> [UInt8] {
        try ContentDecoder.decode(body, contentEncoding: contentEncoding, limits: limits).bytes
    }
}
