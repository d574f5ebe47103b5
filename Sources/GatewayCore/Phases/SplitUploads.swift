import GatewayRules

/// OpenAI's Uploads API sends a file in parts (`POST /v1/uploads/{id}/parts`) and assembles it at
/// `POST /v1/uploads/{id}/complete`. The gateway inspects each part as a document of its own, by its bytes. A file
/// split across parts cannot be inspected whole that way (a value may straddle two parts; a PDF's second half reads
/// as nothing), so completing an upload from more than one part is refused: the parts stay unassembled at the
/// vendor, where no model reads them, and expire. A one-part upload (up to the body limit) is inspected whole.
enum SplitUploads {
    /// The decision that refuses completing `path` from more than one part, or nil.
    static func refusal(path: String, decision: Decision) -> Decision? {
        guard Self.isCompletion(path), let parts = decision.fields["part_ids[]"].flatMap(Int.init), parts > 1 else {
            return nil
        }
        return Decision(
            verdict: .block(
                reason: "request blocked: an upload completed from \(parts) parts cannot be inspected as one file "
                    + "(the gateway inspects each part on its own); send the file in one part, or with /v1/files"),
            findings: decision.findings, inspectedBytes: decision.inspectedBytes, fields: decision.fields,
            documents: decision.documents)
    }

    /// `/v1/uploads/{id}/complete`, with or without a prefix before `/v1`.
    static func isCompletion(_ path: String) -> Bool {
        let segments = path.split(separator: "/")
        guard segments.count >= 4, segments.last == "complete" else { return false }
        return segments[segments.count - 3] == "uploads"
    }
}
