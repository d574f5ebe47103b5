/// One text of a document, with the place it came from (`page 3`, `sheet xl/worksheets/sheet1.xml`,
/// `attachment report.pdf › page 1`). Locations name places, never contents.
public struct DocumentText: Sendable, Hashable {
    public var location: String
    public var text: [UInt8]
    /// The text is the document's own bytes (a text document as uploaded), so a redaction of it is a rewrite of
    /// the document. Decoded texts (entities, RTF control words, OCR, Office XML) are not.
    public var verbatim: Bool

    public init(location: String, text: [UInt8], verbatim: Bool = false) {
        self.location = location
        self.text = text
        self.verbatim = verbatim
    }
}

/// A part of a document that could not be read (an image with OCR off, an encrypted member), and why.
public struct UnreadablePart: Sendable, Hashable {
    public var location: String
    public var reason: DocumentError

    public init(location: String, reason: DocumentError) {
        self.location = location
        self.reason = reason
    }
}

/// What extraction found in one document: its texts, and the parts it could not read. The text of nested
/// documents (ZIP members, attachments) is flattened into `texts` with their location as a prefix.
public struct ExtractedDocument: Sendable {
    public var format: DocumentFormat
    public var byteCount: Int
    /// Pages of a PDF (or slides of a presentation, sheets of a workbook); nil where the format has none.
    public var pages: Int?
    public var texts: [DocumentText]
    public var unreadable: [UnreadablePart]

    public init(format: DocumentFormat, byteCount: Int, pages: Int? = nil, texts: [DocumentText] = [],
                unreadable: [UnreadablePart] = [])
    {
        self.format = format
        self.byteCount = byteCount
        self.pages = pages
        self.texts = texts
        self.unreadable = unreadable
    }
}

extension ExtractedDocument {
    /// Adds a text, charging it to the request's text budget (past it, the extraction ends: `.limitExceeded`).
    mutating func keep(_ text: [UInt8], at location: String, budget: ExtractionBudget, verbatim: Bool = false)
        throws(DocumentError)
    {
        try budget.spendText(text.count)
        self.texts.append(DocumentText(location: location, text: text, verbatim: verbatim))
    }
}
