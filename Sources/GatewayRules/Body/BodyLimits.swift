/// Size bounds for one request body.
public struct BodyLimits: Sendable, Hashable {
    /// Largest body accepted as received (compressed or not).
    public var maximumBodyBytes: Int
    /// Largest body after decompression.
    public var maximumDecodedBytes: Int
    /// Largest decompressed/compressed ratio once the output passes `ratioCheckFloor` bytes: a bomb signature.
    public var maximumCompressionRatio: Int
    /// Output size below which the ratio is not checked (small, very repetitive JSON compresses well legitimately).
    public var ratioCheckFloor: Int
    /// Deepest JSON nesting accepted.
    public var maximumJSONDepth: Int

    public init(maximumBodyBytes: Int = 16 << 20, maximumDecodedBytes: Int = 32 << 20, maximumCompressionRatio: Int = 200,
                ratioCheckFloor: Int = 1 << 20, maximumJSONDepth: Int = 512)
    {
        self.maximumBodyBytes = maximumBodyBytes
        self.maximumDecodedBytes = maximumDecodedBytes
        self.maximumCompressionRatio = maximumCompressionRatio
        self.ratioCheckFloor = ratioCheckFloor
        self.maximumJSONDepth = maximumJSONDepth
    }

    public static let `default` = BodyLimits()
}
