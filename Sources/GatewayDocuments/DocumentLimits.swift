/// Bounds on one document's extraction. Each one hit fails closed: the document counts as uninspectable
/// (`DocumentError.limitExceeded`), and the gateway counts the hit.
public struct DocumentLimits: Sendable, Hashable {
    /// PDF pages read; a longer PDF is uninspectable.
    public var maximumPages: Int
    /// Bytes produced by all decompression in one request's documents (ZIP members, PDF streams, e-mail parts).
    public var maximumDecompressedBytes: Int
    /// Largest expanded/compressed ratio of one ZIP member or PDF stream once past 1 MiB of output: a bomb.
    public var maximumCompressionRatio: Int
    /// Members of one ZIP archive (an Office file is a ZIP archive too).
    public var maximumArchiveMembers: Int
    /// Documents inside documents (an attachment of a message inside a ZIP, ...): 1 is the upload itself.
    public var maximumNestingDepth: Int
    /// Text kept from one request's documents; past it the document is uninspectable.
    public var maximumTextBytes: Int
    /// Largest image read by OCR, in pixels.
    public var maximumImagePixels: Int

    public init(maximumPages: Int = 500, maximumDecompressedBytes: Int = 256 << 20, maximumCompressionRatio: Int = 200,
                maximumArchiveMembers: Int = 2_000, maximumNestingDepth: Int = 4, maximumTextBytes: Int = 32 << 20,
                maximumImagePixels: Int = 40_000_000)
    {
        self.maximumPages = maximumPages
        self.maximumDecompressedBytes = maximumDecompressedBytes
        self.maximumCompressionRatio = maximumCompressionRatio
        self.maximumArchiveMembers = maximumArchiveMembers
        self.maximumNestingDepth = maximumNestingDepth
        self.maximumTextBytes = maximumTextBytes
        self.maximumImagePixels = maximumImagePixels
    }

    public static let `default` = DocumentLimits()
}
