/// Extracts the text of uploaded documents: PDF (poppler), Office Open XML, ZIP archives, e-mail, HTML, RTF,
/// JSON and plain text, and images through OCR when a reader is given. The format comes from the bytes
/// (`FormatSniffer`). Documents inside documents are extracted in turn, up to `maximumNestingDepth`.
///
/// Contract: either every text a reader of the document would see is in `texts`, or the part that could not be
/// read is listed in `unreadable` (or, for the whole document, thrown). Nothing is silently skipped, except parts
/// that carry no text of their own: fonts, and the thumbnail that renders a first page already read.
/// Immutable and `Sendable`; each call gets its own `ExtractionBudget`.
public struct DocumentExtractor: Sendable {
    public let imageReader: (any ImageTextReader)?

    /// - Parameter imageReader: OCR for images; nil: images are unreadable.
    public init(imageReader: (any ImageTextReader)? = nil) {
        self.imageReader = imageReader
    }

    /// Extracts one document. Throws when the document as a whole cannot be read; parts of it that cannot be read
    /// are returned in `unreadable`.
    public func extract(_ bytes: [UInt8], declaredType: String? = nil, filename: String? = nil,
                        budget: ExtractionBudget) throws(DocumentError) -> ExtractedDocument
    {
        try bytes.withUnsafeBufferPointer { (buffer) throws(DocumentError) -> ExtractedDocument in
            try self.extract(buffer, declaredType: declaredType, filename: filename, depth: 1, budget: budget)
        }
    }

    func extract(_ bytes: UnsafeBufferPointer<UInt8>, declaredType: String?, filename: String?, depth: Int,
                 budget: ExtractionBudget) throws(DocumentError) -> ExtractedDocument
    {
        guard depth <= budget.limits.maximumNestingDepth else {
            throw .limitExceeded(limit: "nesting_depth",
                                 detail: "documents nested more than \(budget.limits.maximumNestingDepth) deep")
        }
        try budget.checkDeadline()
        let format = FormatSniffer.detect(bytes, declaredType: declaredType, filename: filename)
        var document = ExtractedDocument(format: format, byteCount: bytes.count)
        switch format {
        case .pdf:
            try PDFText.extract(bytes, into: &document, imageReader: self.imageReader, budget: budget)
        case .docx, .xlsx, .pptx, .zip:
            try self.extractArchive(bytes, into: &document, depth: depth, budget: budget)
        case .email:
            // The message as written (a model given the file reads it so), then every part decoded.
            try document.keep(Array(bytes), at: "text", budget: budget, verbatim: true)
            try self.extractMail(MailEntity(bytes), location: nil, into: &document, depth: depth, budget: budget)
        case .html, .rtf:
            // The markup as written (a model given the file reads it so) and the text it decodes to.
            try document.keep(Array(bytes), at: "text", budget: budget, verbatim: true)
            let decoded = format == .html ? MarkupText.decodeEntities(bytes) : RichText.plainText(bytes)
            if !decoded.elementsEqual(bytes) {
                try document.keep(decoded, at: "decoded text", budget: budget)
            }
        case .json, .jsonl, .text:
            try document.keep(Array(bytes), at: "text", budget: budget, verbatim: true)
        case .png, .jpeg, .gif, .tiff, .webp, .bmp:
            document.pages = 1
            if ImageSize.isTooSmallForText(bytes) { break }
            guard let reader = self.imageReader else {
                throw .unreadable("an image (\(format.rawValue)) without OCR")
            }
            let text = try reader.recognize(bytes, limits: budget.limits, milliseconds: budget.millisecondsLeft)
            try document.keep(text, at: "image text (OCR)", budget: budget)
        case .audio:
            throw .unreadable("audio")
        case .binary:
            if bytes.starts(with: [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
                throw .unreadable("an OLE2 file (a legacy or password-protected Office document)")
            }
            throw .unreadable("a binary of no known document format")
        }
        return document
    }

    /// Folds a nested document's texts and unreadable parts into `document`, under `location`.
    func merge(_ nested: ExtractedDocument, at location: String, into document: inout ExtractedDocument) {
        for text in nested.texts {
            document.texts.append(DocumentText(location: location + " › " + text.location, text: text.text))
        }
        for part in nested.unreadable {
            document.unreadable.append(UnreadablePart(location: location + " › " + part.location, reason: part.reason))
        }
    }

    /// Extracts a nested document; what cannot be read becomes an unreadable part, except exhausted shared limits
    /// and the deadline, which end the whole extraction.
    func extractNested(_ bytes: UnsafeBufferPointer<UInt8>, declaredType: String?, filename: String?, location: String,
                       into document: inout ExtractedDocument, depth: Int, budget: ExtractionBudget) throws(DocumentError)
    {
        do throws(DocumentError) {
            let nested = try self.extract(bytes, declaredType: declaredType, filename: filename, depth: depth + 1,
                                          budget: budget)
            self.merge(nested, at: location, into: &document)
        } catch {
            if Self.endsExtraction(error) { throw error }
            document.unreadable.append(UnreadablePart(location: location, reason: error))
        }
    }

    /// Errors that stop the whole extraction rather than one part: the shared budget or the deadline is spent, or a
    /// bomb was found (whatever part holds it, the upload is one).
    static func endsExtraction(_ error: DocumentError) -> Bool {
        switch error {
        case .deadlineExceeded: true
        case .limitExceeded(let limit, _): ["decompressed_bytes", "text_bytes", "compression_ratio"].contains(limit)
        default: false
        }
    }
}
