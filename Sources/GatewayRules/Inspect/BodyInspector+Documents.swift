import Foundation
import GatewayDocuments

/// Documents inside request bodies: how they are recognised (uploads, `data:` URLs, long base64 strings, URLs a
/// vendor fetches), read (`DocumentExtractor`), scanned with the same rules and policy as message text, and
/// what is done when they cannot be read or rewritten.
extension BodyInspector {
    /// A JSON string is taken for a base64 document from this many characters on.
    static let shortestBase64Document = 64

    /// What a JSON string value carries, when it is a document rather than text.
    enum Carrier {
        /// A `data:` URL: its declared media type, and its payload decoded.
        case dataURL(mediaType: String, payload: [UInt8], base64: Bool)
        /// A bare base64 string that decodes to text or a known document format.
        case base64(decoded: [UInt8])
        /// A URL the vendor will fetch and show the model (`file_url`, `image_url`, a `url` source).
        case remote
        /// Text that is itself a document whose markup hides text from a plain scan: HTML (entities), RTF
        /// (escapes), an e-mail message (encoded parts).
        case markup
    }

    /// Member names whose string values are file contents in the vendors' APIs (`file_data`, a `source`'s `data`,
    /// `input_audio.data`, …): base64 there is a file even when it is of no format the gateway reads.
    static let fileKeys: Set<String> = ["file_data", "data", "image_url", "url", "b64_json", "bytes", "file", "audio"]

    /// Recognises a document in the string value `text` at `path` (nil: it is ordinary text).
    static func carrier(_ text: UnsafeBufferPointer<UInt8>, path: JSONStringWalker.Path) -> Carrier? {
        // The member names are decoded only where they decide (a URL, a long base64 string).
        func keys() -> (last: String?, parent: String?) { (Self.key(path, fromEnd: 0), Self.key(path, fromEnd: 1)) }
        if ByteText.hasWord("data:", in: text) {
            guard let comma = text.firstIndex(of: UInt8(ascii: ",")) else { return nil }
            let header = String(decoding: text[5..<comma], as: UTF8.self)
            let attributes = header.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            let isBase64 = attributes.contains("base64")
            let mediaType = attributes.first.flatMap { $0.contains("/") ? String($0) : nil } ?? "text/plain"
            let payload = UnsafeBufferPointer(rebasing: text[(comma + 1)...])
            // Decoded leniently: a reader that skips a stray character must not see a document the gateway did not.
            let decoded = isBase64 ? TransferDecoding.base64(payload, lenient: true)
                : PercentEncoding.decode(Array(payload), plusIsSpace: false)
            return decoded.map { .dataURL(mediaType: mediaType, payload: $0, base64: isBase64) }
        }
        if ByteText.hasWord("http://", in: text) || ByteText.hasWord("https://", in: text) {
            let (lastKey, parentKey) = keys()
            let fetched = lastKey == "file_url" || lastKey == "image_url"
                || (lastKey == "url" && (parentKey == "image_url" || parentKey == "source" || parentKey == "document"))
            return fetched ? .remote : nil
        }
        if let first = text.first(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }),
           first == UInt8(ascii: "<") || first == UInt8(ascii: "{") || FormatSniffer.hasHeaderLine(text),
           [.html, .rtf, .email].contains(FormatSniffer.detect(text))
        {
            return .markup
        }
        guard text.count >= Self.shortestBase64Document, TransferDecoding.isBase64(text, minimum: Self.shortestBase64Document),
              let decoded = TransferDecoding.base64(text, lenient: true)
        else { return nil }
        // Base64 of noise (a hash, an encrypted blob, an embedding) in an ordinary field stays a string; text, a
        // document, or anything in a field that holds file contents is read (and refused when unreadable).
        let format = FormatSniffer.detect(decoded)
        // (From 256 characters: a hash in hex or base64 under a `data` key is no file.)
        let inFileField = text.count >= 256 && {
            let (lastKey, parentKey) = keys()
            return (lastKey.map(Self.fileKeys.contains) ?? false) || parentKey == "input_audio"
        }()
        return format == .binary && !inFileField ? nil : .base64(decoded: decoded)
    }

    /// Inspects one document. Returns the document rewritten when the policy redacted something in a text document;
    /// nil when it goes as it is. A binary document that would need redaction, or one that cannot be read, adds a
    /// block reason (unless the role allows uninspected content, for the latter).
    func inspectDocument(_ bytes: [UInt8], declaredType: String?, filename: String?, location: String,
                         request: inout RequestInspection) throws(InspectionError) -> [UInt8]?
    {
        let policy = request.policy
        let state = request.enterDocument()
        let format = FormatSniffer.detect(bytes, declaredType: declaredType, filename: filename)
        let findingsBefore = request.findings.count
        if format == .json || format == .jsonl {
            let rewritten = try self.inspectJSONDocument(bytes, lines: format == .jsonl, location: location,
                                                         request: &request)
            state.summaries.append(DocumentSummary(
                location: location, format: format.rawValue, bytes: bytes.count, pages: nil,
                findings: request.findings.count - findingsBefore, outcome: rewritten == nil ? .inspected : .rewritten))
            return rewritten
        }
        let extractor = policy.readImages ? self.documents : self.documentsWithoutOCR
        let document: ExtractedDocument
        do throws(DocumentError) {
            document = try extractor.extract(bytes, declaredType: declaredType, filename: filename,
                                             budget: state.budget)
        } catch {
            if case .deadlineExceeded = error { throw .deadlineExceeded }
            self.refuseUnreadable(location: location, format: format.rawValue, bytes: bytes.count, pages: nil,
                                  parts: [UnreadablePart(location: "", reason: error)], findings: 0, request: &request)
            return nil
        }
        var rewritten: [UInt8]?
        var unredactable: [String] = []
        // Values the rewrite of the verbatim text replaces: the same value in a decoded text (an e-mail's
        // unfolded header, HTML without markup) is covered by that rewrite.
        var rewrittenValues: Set<String> = []
        var coveredByRewrite = false
        for text in document.texts {
            let before = request.findings.count
            // A text document as uploaded is the upload itself: its findings are located at the upload.
            let place = text.verbatim ? location : location + " › " + text.location
            let redacted = try text.text.withUnsafeBufferPointer { (buffer) throws(InspectionError) -> [UInt8]? in
                try request.inspect(buffer, location: { place })
            }
            guard let redacted else { continue }
            let redactions = request.findings[before...].filter { $0.action == .redact }
            if text.verbatim {
                rewritten = redacted
                rewrittenValues.formUnion(redactions.map(\.fingerprint))
            } else if redactions.contains(where: { !rewrittenValues.contains($0.fingerprint) }) {
                let kinds = Set(redactions.map { "\($0.category)/\($0.type)" })
                unredactable.append("\(kinds.sorted().joined(separator: ", ")) at \(place)")
            } else {
                coveredByRewrite = true
            }
        }
        // The same value may also sit elsewhere in an encoded form (a base64 part, an entity) that the rewrite of
        // the verbatim text did not touch: the rewritten document is read again, and must hold nothing to redact.
        if coveredByRewrite, unredactable.isEmpty, let candidate = rewritten,
           let leftover = try self.findingsLeft(in: candidate, declaredType: declaredType, filename: filename,
                                                location: location, request: request)
        {
            unredactable.append(leftover)
        }
        let findings = request.findings.count - findingsBefore
        if !unredactable.isEmpty {
            state.blocks.append(
                "a \(format.rawValue) document cannot be redacted in place: " + unredactable.joined(separator: "; "))
            rewritten = nil
        }
        if !document.unreadable.isEmpty {
            self.refuseUnreadable(location: location, format: format.rawValue, bytes: bytes.count, pages: document.pages,
                                  parts: document.unreadable, findings: findings, request: &request)
            return request.policy.allowUninspected ? rewritten : nil
        }
        state.summaries.append(DocumentSummary(
            location: location, format: format.rawValue, bytes: bytes.count, pages: document.pages, findings: findings,
            outcome: !unredactable.isEmpty ? .refused : rewritten == nil ? .inspected : .rewritten))
        return rewritten
    }

    /// What a rewritten text document still holds that the policy would redact or block, read as the original
    /// was (decoded texts only), or nil. Runs on a copy of the request's state, so nothing is recorded twice.
    private func findingsLeft(in rewritten: [UInt8], declaredType: String?, filename: String?, location: String,
                              request: RequestInspection) throws(InspectionError) -> String?
    {
        var probe = request
        guard let document = try? self.documentsWithoutOCR.extract(
            rewritten, declaredType: declaredType, filename: filename, budget: probe.enterDocument().budget)
        else { return "the rewritten document could not be read again" }
        for text in document.texts where !text.verbatim {
            let before = probe.findings.count
            _ = try text.text.withUnsafeBufferPointer { (buffer) throws(InspectionError) -> [UInt8]? in
                try probe.inspect(buffer, location: { location })
            }
            let left = probe.findings[before...].filter { $0.action != .allow }
            if !left.isEmpty {
                let kinds = Set(left.map { "\($0.category)/\($0.type)" }).sorted().joined(separator: ", ")
                return "\(kinds) at \(location) › \(text.location) (also in an encoded form the rewrite cannot reach)"
            }
        }
        return nil
    }

    /// A URL whose content the vendor fetches: the gateway does not fetch it (that would let any caller make it
    /// reach any address), so what the model would read there is uninspectable.
    func inspectRemote(location: String, request: inout RequestInspection) {
        self.refuseUnreadable(
            location: location, format: "remote", bytes: 0, pages: nil,
            parts: [UnreadablePart(location: "", reason: .unreadable("a file the vendor fetches from a URL"))],
            findings: 0, request: &request)
    }

    private func refuseUnreadable(location: String, format: String, bytes: Int, pages: Int?, parts: [UnreadablePart],
                                  findings: Int, request: inout RequestInspection)
    {
        let reasons = parts.map { ($0.location.isEmpty ? "" : $0.location + ": ") + $0.reason.description }
        let limits = parts.compactMap { part -> String? in
            if case .limitExceeded(let limit, _) = part.reason { return limit }
            return nil
        }
        let allowed = request.policy.allowUninspected
        let state = request.enterDocument()
        state.summaries.append(DocumentSummary(
            location: location, format: format, bytes: bytes, pages: pages, findings: findings,
            outcome: allowed ? .uninspected : .refused, unreadable: reasons, limitsHit: limits))
        if !allowed {
            state.blocks.append(
                "the \(format) document at \(location) cannot be inspected: " + reasons.joined(separator: "; "))
        }
    }

    /// A JSON document (or JSON Lines: a batch file, each line a request body) read as the JSON it is, escapes
    /// decoded, each line rewritten where redacted. A line shaped like JSON must be strict JSON (else 400); other
    /// lines are scanned as text.
    private func inspectJSONDocument(_ bytes: [UInt8], lines: Bool, location: String,
                                     request: inout RequestInspection) throws(InspectionError) -> [UInt8]?
    {
        let pieces: [ArraySlice<UInt8>] = lines ? bytes.split(separator: 0x0A, omittingEmptySubsequences: false)
            : [bytes[...]]
        var out: [UInt8] = []
        var changed = false
        for (number, piece) in pieces.enumerated() {
            let line = Array(piece)
            let place = lines ? "\(location) › line \(number + 1)" : location
            var rewritten: [UInt8]?
            if Self.looksLikeJSON(line) {
                // Strictly, as a request body: a vendor reading the file later must not see what the gateway did not
                // (a duplicate key, an invalid escape), so such a file is refused.
                rewritten = try self.inspectJSON(line, request: &request, location: place)
            } else if let redacted = try self.inspectText(line, location: place, request: &request) {
                rewritten = redacted
            }
            if number > 0 { out.append(0x0A) }
            out.append(contentsOf: rewritten ?? line)
            changed = changed || rewritten != nil
        }
        return changed ? out : nil
    }
}

extension BodyInspector {
    /// Inspects the string `literal` as a document when it carries one (see `carrier`). Returns nil when it is
    /// ordinary text (the caller scans it as such); otherwise the literal's replacement, JSON-encoded, or `.some(nil)`
    /// when it goes as it is.
    func inspectCarrier(_ body: UnsafeBufferPointer<UInt8>, literal: JSONStringWalker.StringLiteral,
                        path: JSONStringWalker.Path, location: () -> String, request: inout RequestInspection)
        throws(InspectionError) -> [UInt8]??
    {
        let inner = (literal.range.lowerBound + 1)..<(literal.range.upperBound - 1)
        guard inner.count >= 5 else { return nil }
        // Cheap first look: only strings that start like a data URL or a URL, or are long, can be documents.
        let first = body[inner.lowerBound] | 0x20
        guard first == UInt8(ascii: "d") || first == UInt8(ascii: "h")
            || inner.count >= Self.shortestBase64Document
        else { return nil }
        // Most strings are ordinary text: they are looked at where they lie, without a copy, and the member names
        // are decoded only for a URL (the one case that needs them).
        let escaped = literal.hasEscapes ? JSONStringCodec.decode(body, literal: literal.range) : nil
        let found: Carrier?
        if let escaped {
            found = escaped.withUnsafeBufferPointer { Self.carrier($0, path: path) }
        } else {
            found = Self.carrier(UnsafeBufferPointer(rebasing: body[inner]), path: path)
        }
        guard let found else { return nil }
        let decoded = escaped ?? Array(body[inner])
        let place = location()
        switch found {
        case .remote:
            self.inspectRemote(location: place, request: &request)
            return .some(nil)
        case .dataURL(let mediaType, let payload, _):
            guard let rewritten = try self.inspectDocument(payload, declaredType: mediaType, filename: nil,
                                                           location: place, request: &request)
            else { return .some(nil) }
            let url = Array("data:\(mediaType);base64,".utf8) + TransferDecoding.encodeBase64(rewritten)
            return .some(JSONStringCodec.encode(url))
        case .markup:
            guard let rewritten = try self.inspectDocument(decoded, declaredType: nil, filename: nil, location: place,
                                                           request: &request)
            else { return .some(nil) }
            return .some(JSONStringCodec.encode(rewritten))
        case .base64(let payload):
            guard let rewritten = try self.inspectDocument(payload, declaredType: nil, filename: nil, location: place,
                                                           request: &request)
            else { return .some(nil) }
            return .some(JSONStringCodec.encode(TransferDecoding.encodeBase64(rewritten)))
        }
    }

    /// The member name `fromEnd` steps above the value (0: the value's own key), when that step is a key.
    static func key(_ path: JSONStringWalker.Path, fromEnd: Int) -> String? {
        let position = path.steps.count - 1 - fromEnd
        guard position >= 0, case .key(let range) = path.steps[position] else { return nil }
        return String(decoding: JSONStringCodec.decode(path.body, literal: range), as: UTF8.self)
    }
}
