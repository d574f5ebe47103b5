#if canImport(Glibc)
import Glibc
#endif
import CTesseract

/// Reads the text of an image (OCR). Implementations must bound their own work by `limits.maximumImagePixels`.
public protocol ImageTextReader: Sendable {
    /// - Parameter milliseconds: the time left before the inspection deadline; past it, `.deadlineExceeded`.
    func recognize(_ image: UnsafeBufferPointer<UInt8>, limits: DocumentLimits, milliseconds: Int)
        throws(DocumentError) -> [UInt8]
}

/// OCR with Tesseract (its C API) and Leptonica's image decoders. The image's size is read from its header
/// before it is decoded, so a decompression bomb of an image is refused without being expanded. Each image gets an
/// engine of its own: loading the language data costs about 60 ms of the second recognition takes here
/// (`bench/documents-bench`), and pooled engines make Tesseract report them as leaked at exit.
public struct TesseractReader: ImageTextReader {
    /// Directory holding `<language>.traineddata` (Debian: /usr/share/tesseract-ocr/5/tessdata).
    public let dataPath: String
    public let language: String

    public init(dataPath: String = "/usr/share/tesseract-ocr/5/tessdata", language: String = "eng") {
        self.dataPath = dataPath
        self.language = language
        gw_image_quiet()
    }

    /// Whether Tesseract can start with this language data (for `config check` and start-up).
    public var isAvailable: Bool {
        FileManagerProbe.exists(self.dataPath + "/" + self.language + ".traineddata")
    }

    public func recognize(_ image: UnsafeBufferPointer<UInt8>, limits: DocumentLimits, milliseconds: Int)
        throws(DocumentError) -> [UInt8]
    {
        var width: Int32 = 0
        var height: Int32 = 0
        guard gw_image_size(image.baseAddress, image.count, &width, &height) == 0 else {
            throw .damaged("the image header does not decode")
        }
        guard Int(width) * Int(height) <= limits.maximumImagePixels else {
            throw .limitExceeded(limit: "image_pixels",
                                 detail: "\(width)×\(height) pixels, more than \(limits.maximumImagePixels)")
        }
        guard let engine = gw_ocr_engine(self.dataPath, self.language) else {
            throw .unreadable("an image (OCR language data missing at \(self.dataPath))")
        }
        var failure: Int32 = 0
        let text = gw_ocr(engine, image.baseAddress, image.count, Int32(clamping: max(1, milliseconds)), &failure)
        gw_ocr_engine_free(engine)
        guard let text else {
            if failure == 3 { throw .deadlineExceeded }
            throw .damaged("the image does not decode")
        }
        defer { gw_ocr_free(text) }
        return Array(UnsafeBufferPointer(start: UnsafeRawPointer(text).assumingMemoryBound(to: UInt8.self),
                                         count: strlen(text)))
    }
}

enum FileManagerProbe {
    static func exists(_ path: String) -> Bool { access(path, R_OK) == 0 }
}

/// Image dimensions from the header (Leptonica reads it without decoding the pixels).
enum ImageSize {
    /// Images under 8 pixels on a side or 1024 pixels in all (icons, rules, bullets) cannot hold a legible word of
    /// a credential, whichever way it runs.
    static func isTooSmallForText(_ image: UnsafeBufferPointer<UInt8>) -> Bool {
        var width: Int32 = 0
        var height: Int32 = 0
        guard gw_image_size(image.baseAddress, image.count, &width, &height) == 0 else { return false }
        return min(width, height) < 8 || Int(width) * Int(height) < 1024
    }
}
