extension DocumentExtractor {
    /// An e-mail message: its header fields, every text part decoded, every attachment extracted as a document,
    /// enclosed messages in turn.
    func extractMail(_ entity: MailEntity, location: String?, into document: inout ExtractedDocument, depth: Int,
                     budget: ExtractionBudget) throws(DocumentError)
    {
        try budget.checkDeadline()
        let here = location.map { $0 + " › " } ?? ""
        let headerText = entity.headers.map { "\($0.name): \($0.value)" }.joined(separator: "\n")
        if !headerText.isEmpty { try document.keep(Array(headerText.utf8), at: here + "headers", budget: budget) }
        let type = entity.contentType
        if type.essence.hasPrefix("multipart/") {
            guard let boundary = type.parameters["boundary"], !boundary.isEmpty else {
                throw .damaged("a multipart e-mail part without a boundary")
            }
            guard depth <= budget.limits.maximumNestingDepth * 4 else {
                throw .limitExceeded(limit: "nesting_depth", detail: "MIME parts nested too deep")
            }
            let parts = entity.parts(boundary: boundary)
            guard !parts.isEmpty else { throw .damaged("a multipart e-mail part without any part") }
            for (number, part) in parts.enumerated() {
                try self.extractMail(MailEntity(part), location: here + "part \(number + 1)", into: &document,
                                     depth: depth + 1, budget: budget)
            }
            return
        }
        let body = entity.decodedBody()
        try budget.spendDecompressed(body.count)
        let name = entity.filename
        let partLocation = here + (name.map { "attachment " + $0 } ?? "body")
        if type.essence == "message/rfc822" {
            try body.withUnsafeBufferPointer { (buffer) throws(DocumentError) in
                try self.extractMail(MailEntity(buffer), location: partLocation, into: &document, depth: depth + 1,
                                     budget: budget)
            }
        } else if type.essence == "text/html" {
            try document.keep(entity.decodedText().withUnsafeBufferPointer { MarkupText.decodeEntities($0) },
                              at: partLocation, budget: budget)
        } else if type.essence.hasPrefix("text/") && name == nil {
            try document.keep(entity.decodedText(), at: partLocation, budget: budget)
        } else {
            try body.withUnsafeBufferPointer { (buffer) throws(DocumentError) in
                try self.extractNested(buffer, declaredType: type.essence, filename: name, location: partLocation,
                                       into: &document, depth: depth, budget: budget)
            }
        }
    }
}
