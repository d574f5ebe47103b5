extension DocumentExtractor {
    /// Office Open XML and ZIP: every XML part's text (document body, headers, footers, comments, notes, cells,
    /// shared strings, properties, relationship targets); every other member extracted as a document of its own
    /// (an embedded workbook, an image, a file in an archive).
    func extractArchive(_ bytes: UnsafeBufferPointer<UInt8>, into document: inout ExtractedDocument, depth: Int,
                        budget: ExtractionBudget) throws(DocumentError)
    {
        let archive = try ZipArchive(bytes, maximumMembers: budget.limits.maximumArchiveMembers)
        let isOffice = document.format != .zip
        var pages = 0
        for member in archive.members where !member.name.hasSuffix("/") {
            try budget.checkDeadline()
            let location = Self.archiveLocation(member.name, format: document.format)
            if isOffice && Self.isPageLike(member.name) { pages += 1 }
            let content: [UInt8]
            do throws(DocumentError) {
                content = try archive.content(of: member, in: bytes, budget: budget)
            } catch {
                if Self.endsExtraction(error) { throw error }
                document.unreadable.append(UnreadablePart(location: location, reason: error))
                continue
            }
            try content.withUnsafeBufferPointer { (buffer) throws(DocumentError) in
                // Parts are told apart by their bytes, not their names: a part named like a font that holds XML
                // is read as XML.
                if isOffice && Self.looksLikeXML(buffer) {
                    let text = MarkupText.officeXML(buffer, separateEveryElement: Self.isPropertyPart(member.name))
                    try document.keep(text, at: location, budget: budget)
                } else if isOffice && Self.carriesNoText(member.name, buffer) {
                    return
                } else {
                    try self.extractNested(buffer, declaredType: nil, filename: member.name, location: location,
                                           into: &document, depth: depth, budget: budget)
                }
            }
        }
        if isOffice { document.pages = pages }
    }

    /// Parts that hold no text of their own: fonts and printer settings (binary, by name and by bytes), and the
    /// thumbnail picture of a first page already read from its XML.
    static func carriesNoText(_ name: String, _ content: UnsafeBufferPointer<UInt8>) -> Bool {
        let lower = name.lowercased()
        let format = FormatSniffer.detect(content)
        if lower.hasPrefix("docprops/thumbnail.") { return format.isImage }
        let fontOrPrinter = lower.hasSuffix(".odttf") || lower.hasSuffix(".fntdata") || lower.hasSuffix(".ttf")
            || lower.contains("/fonts/") || lower.contains("printersettings/")
        return fontOrPrinter && format == .binary
    }

    /// Parts outside the document vocabularies (properties, custom XML, relationships), where each element is one
    /// value of its own.
    static func isPropertyPart(_ name: String) -> Bool {
        !(name.hasPrefix("word/") || name.hasPrefix("xl/") || name.hasPrefix("ppt/")) || name.hasSuffix(".rels")
    }

    /// XML by its first bytes (after a byte order mark and blanks): `<`.
    static func looksLikeXML(_ content: UnsafeBufferPointer<UInt8>) -> Bool {
        let start = FormatSniffer.firstNonBlank(content)
        return start < content.count && content[start] == UInt8(ascii: "<")
    }

    /// Slides, sheets and the Word body count as pages of an Office document.
    static func isPageLike(_ name: String) -> Bool {
        (name.hasPrefix("ppt/slides/slide") || name.hasPrefix("xl/worksheets/sheet") || name == "word/document.xml")
            && name.hasSuffix(".xml")
    }

    /// A reader's name for an Office part (`sheet 2`, `slide 3 notes`, `header`), or the member's own name.
    static func archiveLocation(_ name: String, format: DocumentFormat) -> String {
        guard format != .zip else { return "member " + name }
        let file = name.split(separator: "/").last.map(String.init) ?? name
        let number = file.filter(\.isNumber)
        switch true {
        case name.hasPrefix("xl/worksheets/sheet"): return "sheet \(number)"
        case name == "xl/sharedStrings.xml": return "shared strings (cells)"
        case name.hasPrefix("ppt/slides/slide"): return "slide \(number)"
        case name.hasPrefix("ppt/notesSlides/"): return "slide notes \(number)"
        case name.hasPrefix("word/header"): return "header \(number)"
        case name.hasPrefix("word/footer"): return "footer \(number)"
        case name == "word/document.xml": return "body"
        case name.contains("comments") || name.contains("Comments"): return "comments (\(name))"
        case name.hasPrefix("docProps/"): return "document properties (\(name))"
        default: return "part " + name
        }
    }
}
