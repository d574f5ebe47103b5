/// What a document is, decided from its bytes (`FormatSniffer`), not from the name or type it was declared with.
public enum DocumentFormat: String, Sendable, Hashable, CaseIterable {
    case pdf
    case docx, xlsx, pptx
    /// A ZIP archive that is not an Office document (its members are read one by one).
    case zip
    /// An e-mail message (RFC 5322, MIME).
    case email
    case html, rtf, json, jsonl
    /// Any other UTF-8 text: CSV/TSV, Markdown, source code, logs.
    case text
    case png, jpeg, gif, tiff, webp, bmp
    /// Sound (WAV, MP3, Ogg, FLAC, MP4 audio): a model listens to it; the gateway cannot inspect it.
    case audio
    /// Bytes of no format the gateway reads: uninspectable.
    case binary

    /// Images, readable only by OCR.
    public var isImage: Bool { [.png, .jpeg, .gif, .tiff, .webp, .bmp].contains(self) }

    /// Text formats whose extracted text is the document's own bytes, so a redaction can rewrite the document.
    /// (HTML and RTF are read after decoding entities or control words; they are rewritten only when that decoding
    /// changed nothing.)
    public var isTextLike: Bool { [.text, .json, .jsonl, .html, .rtf].contains(self) }

    /// The media type a rewritten text document is sent with.
    public var mediaType: String {
        switch self {
        case .pdf: "application/pdf"
        case .docx: "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        case .xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        case .pptx: "application/vnd.openxmlformats-officedocument.presentationml.presentation"
        case .zip: "application/zip"
        case .email: "message/rfc822"
        case .html: "text/html"
        case .rtf: "application/rtf"
        case .json: "application/json"
        case .jsonl: "application/jsonl"
        case .text: "text/plain"
        case .png: "image/png"
        case .jpeg: "image/jpeg"
        case .gif: "image/gif"
        case .tiff: "image/tiff"
        case .webp: "image/webp"
        case .bmp: "image/bmp"
        case .audio: "application/octet-stream"
        case .binary: "application/octet-stream"
        }
    }
}
