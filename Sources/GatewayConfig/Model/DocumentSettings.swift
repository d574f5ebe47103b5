/// How uploaded documents are read (`documents:`). Every limit, when hit, makes the document uninspectable:
/// blocked unless the role allows uninspected uploads, and counted in `gateway_limit_hits_total`.
public struct DocumentSettings: Sendable, Hashable {
    /// `max_pages`, default 500: PDF pages read.
    public let maxPages: Int
    /// `max_decompressed_bytes`, default 268435456 (256 MiB): decompression across one request's documents.
    public let maxDecompressedBytes: Int
    /// `max_compression_ratio`, default 200: one ZIP member or PDF stream expanding more is a bomb.
    public let maxCompressionRatio: Int
    /// `max_archive_members`, default 2000: members of one ZIP archive or Office file.
    public let maxArchiveMembers: Int
    /// `max_nesting_depth`, default 4: documents inside documents (the upload itself is 1).
    public let maxNestingDepth: Int
    /// `max_text_bytes`, default 33554432 (32 MiB): text kept from one request's documents.
    public let maxTextBytes: Int
    /// `max_image_pixels`, default 40000000: largest image OCR reads.
    public let maxImagePixels: Int
    /// `inspection_deadline_ms`, default 10000: the inspection deadline of a request that may carry documents
    /// (multipart, a body that is not JSON or text, or a body over 256 KiB), instead of `limits.inspection_deadline_ms`.
    public let inspectionDeadlineMilliseconds: Int
    /// `max_held_upload_bytes`, default 268435456 (256 MiB): Uploads API parts held (sealed, in memory) until their
    /// upload is completed, all uploads together; a part past it gets 503.
    public let maxHeldUploadBytes: Int
    /// `ocr_data`, default `/usr/share/tesseract-ocr/5/tessdata`: Tesseract's language data, for roles with `ocr: true`.
    public let ocrDataDirectory: String
    /// `ocr_language`, default `eng`.
    public let ocrLanguage: String

    public init(maxPages: Int = 500, maxDecompressedBytes: Int = 256 << 20, maxCompressionRatio: Int = 200,
                maxArchiveMembers: Int = 2_000, maxNestingDepth: Int = 4, maxTextBytes: Int = 32 << 20,
                maxImagePixels: Int = 40_000_000, inspectionDeadlineMilliseconds: Int = 10_000,
                maxHeldUploadBytes: Int = 256 << 20,
                ocrDataDirectory: String = "/usr/share/tesseract-ocr/5/tessdata", ocrLanguage: String = "eng")
    {
        self.maxPages = maxPages
        self.maxDecompressedBytes = maxDecompressedBytes
        self.maxCompressionRatio = maxCompressionRatio
        self.maxArchiveMembers = maxArchiveMembers
        self.maxNestingDepth = maxNestingDepth
        self.maxTextBytes = maxTextBytes
        self.maxImagePixels = maxImagePixels
        self.inspectionDeadlineMilliseconds = inspectionDeadlineMilliseconds
        self.maxHeldUploadBytes = maxHeldUploadBytes
        self.ocrDataDirectory = ocrDataDirectory
        self.ocrLanguage = ocrLanguage
    }
}
