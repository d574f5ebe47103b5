/// One document found in a request (an upload, a data URL, a base64 field, a file a vendor would fetch), as the
/// decision record lists it: where, what, how big, and what became of it. Never its text.
public struct DocumentSummary: Sendable, Hashable {
    public enum Outcome: String, Sendable, Hashable {
        /// Read completely; its findings (if any) are in the decision.
        case inspected
        /// A text document the policy's redactions rewrote.
        case rewritten
        /// It could not be read (or not all of it), and the request is blocked for it.
        case refused
        /// It could not be read, and the role lets uninspectable uploads through: forwarded unread.
        case uninspected
    }

    /// Where it was in the request (`messages[0].content[1].file.file_data`, `multipart:file (report.pdf)`).
    public let location: String
    /// Its format as detected from the bytes (`pdf`, `docx`, …), or `remote` for a URL the vendor fetches.
    public let format: String
    public let bytes: Int
    public let pages: Int?
    /// Findings in its text.
    public let findings: Int
    public let outcome: Outcome
    /// Why it (or a part of it) could not be read, one entry per part: `page 3: …`. No contents.
    public let unreadable: [String]
    /// The `DocumentLimits` limits that were hit (`pages`, `decompressed_bytes`, …), for the gateway's counters.
    public let limitsHit: [String]

    public init(location: String, format: String, bytes: Int, pages: Int?, findings: Int, outcome: Outcome,
                unreadable: [String] = [], limitsHit: [String] = [])
    {
        self.location = location
        self.format = format
        self.bytes = bytes
        self.pages = pages
        self.findings = findings
        self.outcome = outcome
        self.unreadable = unreadable
        self.limitsHit = limitsHit
    }
}
