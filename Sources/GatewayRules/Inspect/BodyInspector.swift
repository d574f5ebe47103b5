import Foundation
import GatewayCrypto
import GatewayDocuments

/// The entry point for the HTTP layer: decodes, parses and scans a request body under a policy and returns a
/// `Decision`. Immutable and `Sendable`: build one at start-up and call it from every event loop.
///
/// Contract:
/// - Nothing is allowed without having been inspected: bodies that cannot be decoded or parsed throw, content that
///   cannot be inspected (binary) is blocked or refused unless the policy allows binary uploads.
/// - `allow` means "forward the original bytes unchanged" (byte-identical).
/// - `redact` carries a complete replacement body: for JSON, only the affected string literals are rewritten and
///   every other byte is copied, so the structure is identical and the JSON stays valid. A compressed body that is
///   redacted is returned uncompressed (`contentEncodingRemoved`).
/// - Any engine error, PCRE2 limit or passed deadline throws (`InspectionError.engineFailure` /
///   `.deadlineExceeded`): fail closed.
public struct BodyInspector: Sendable {
    public private(set) var rules: RuleSet
    public let limits: BodyLimits
    /// Top-level string members of a JSON body that the decision reports (`Decision.fields`), read in the same walk
    /// as inspection so that policy and inspection see one document.
    public let fieldNames: [String]
    let fingerprintKey: [UInt8]
    /// The same key prepared once for OpenSSL's EVP_MAC (no per-finding algorithm fetch or key setup).
    let fingerprintMAC: HMACKey
    /// Bounds on reading the documents a body carries.
    public let documentLimits: DocumentLimits
    /// Reads documents, with OCR when the gateway has a reader (used for roles whose policy reads images).
    let documents: DocumentExtractor
    let documentsWithoutOCR: DocumentExtractor

    /// - Parameters:
    ///   - fingerprintKey: HMAC key for finding fingerprints (and keyed-hash redaction); keep it secret and stable.
    ///   - fieldNames: top-level string members to report in `Decision.fields` (e.g. `model`).
    ///   - imageReader: OCR for images in documents, used where the policy says `readImages`.
    public init(rules: RuleSet, fingerprintKey: [UInt8], limits: BodyLimits = .default, fieldNames: [String] = [],
                documentLimits: DocumentLimits = .default, imageReader: (any ImageTextReader)? = nil)
    {
        self.rules = rules
        self.documentLimits = documentLimits
        self.documents = DocumentExtractor(imageReader: imageReader)
        self.documentsWithoutOCR = DocumentExtractor()
        self.fieldNames = fieldNames
        self.fingerprintKey = fingerprintKey
        self.fingerprintMAC = HMACKey(fingerprintKey)
        self.limits = limits
        _ = BMPFolds.shared  // built now, at start-up, not by the first request with non-ASCII text
    }

    /// An inspector over the rule set's shadow rules (`mode: shadow`) with this one's limits and fingerprint key;
    /// nil when there are none. It reports what those rules would do; nothing it finds changes a request.
    public var shadow: BodyInspector? {
        guard let shadowRules = self.rules.shadow else { return nil }
        var inspector = self
        inspector.rules = shadowRules
        return inspector
    }

    /// Inspects one request body.
    /// - Parameters:
    ///   - contentType: the request's `Content-Type` (nil: sniffed: JSON if it parses, text if UTF-8, else binary).
    ///   - contentEncoding: the request's `Content-Encoding` (gzip, deflate, identity; others throw 415).
    ///   - trace: collects what became of every candidate a rule matched (`gatewayctl rules test --explain`); never
    ///     set on the gateway's path.
    public func inspect(body: [UInt8], contentType: String?, contentEncoding: String?, policy: CategoryPolicy = .default,
                        deadline: InspectionDeadline = .none, trace: ScanTrace? = nil) throws(InspectionError) -> Decision
    {
        guard body.count <= self.limits.maximumBodyBytes else {
            throw .tooLarge("body exceeds \(self.limits.maximumBodyBytes) bytes")
        }
        let (decoded, wasEncoded) = try ContentDecoder.decode(body, contentEncoding: contentEncoding, limits: self.limits)
        let media = contentType.map(MediaType.init)
        return try self.rules.withSession { (session) throws(InspectionError) -> Decision in
            var request = RequestInspection(ruleSet: self.rules, policy: policy, fingerprintMAC: self.fingerprintMAC,
                                            session: session, deadline: deadline, documentLimits: self.documentLimits,
                                            trace: trace)
            var blockReasons: [String] = []
            var fields: [String: String] = [:]
            let rewritten: [UInt8]?
            if let media, media.isJSON || (media.isTextLike && Self.looksLikeJSON(decoded)) {
                // A JSON-shaped text body is read as the JSON a vendor will read, escapes decoded, strictly.
                rewritten = try self.inspectJSON(decoded, request: &request, fields: &fields)
            } else if let media, media.isMultipart {
                rewritten = try self.inspectMultipart(decoded, media: media, request: &request, policy: policy,
                                                      blockReasons: &blockReasons)
            } else if let media, media.isFormURLEncoded, Self.looksLikeJSON(decoded) {
                rewritten = try self.inspectJSON(decoded, request: &request, fields: &fields)
            } else if let media, media.isFormURLEncoded {
                rewritten = try self.inspectForm(decoded, request: &request, blockReasons: &blockReasons)
            } else if let media, media.isTextLike, !FormatSniffer.isDocument(decoded) {
                try Self.refuseNUL(decoded)
                rewritten = try self.inspectText(decoded, location: "$", request: &request)
            } else if (media == nil || media!.essence.isEmpty) && !FormatSniffer.isDocument(decoded) {
                rewritten = try self.inspectSniffed(decoded, request: &request, fields: &fields)
            } else {
                // A document sent as the body itself (or text labelled with a binary type): read by its bytes.
                rewritten = try self.inspectDocument(decoded, declaredType: media?.essence, filename: nil,
                                                     location: "body", request: &request)
            }
            // The deadline holds wherever it falls, after the last text too: a decision reached late is not used.
            try request.scanner.deadline.check()
            return Self.decide(
                request: request, rewritten: rewritten, wasEncoded: wasEncoded,
                extraBlocks: blockReasons + request.documentBlocks, fields: fields
            )
        }
    }

    /// Inspects texts that cannot be rewritten (a request's query string, its header values): any finding the
    /// policy does not allow blocks, since there is nothing to redact in place. `location` labels each text in
    /// findings (e.g. `header user-agent`).
    public func inspect(
        unredactable texts: [(location: String, text: [UInt8])], policy: CategoryPolicy = .default,
        deadline: InspectionDeadline = .none
    ) throws(InspectionError) -> Decision {
        try self.rules.withSession { (session) throws(InspectionError) -> Decision in
            var request = RequestInspection(ruleSet: self.rules, policy: policy, fingerprintMAC: self.fingerprintMAC,
                                            session: session, deadline: deadline)
            for (location, text) in texts {
                _ = try text.withUnsafeBufferPointer { (buffer) throws(InspectionError) -> [UInt8]? in
                    try request.inspect(buffer, location: { location })
                }
            }
            try deadline.check()
            let refused = request.findings.filter { $0.action != .allow }
            guard !refused.isEmpty else {
                return Decision(verdict: .allow, findings: request.findings, inspectedBytes: request.inspectedBytes)
            }
            let places = Dictionary(grouping: refused, by: { "\($0.category)/\($0.type)" })
                .map { "\($0.key) at \(Set($0.value.map(\.location)).sorted().joined(separator: ", "))" }.sorted()
            return Decision(
                verdict: .block(
                    reason: "request blocked: " + places.joined(separator: "; ")
                        + " (a query string or header cannot be redacted)"
                ),
                findings: request.findings, inspectedBytes: request.inspectedBytes
            )
        }
    }

    /// The keyed fingerprint a finding of `value` would carry (HMAC-SHA256, 16 hex characters).
    public func fingerprint(of value: String) -> String {
        RequestInspection.fingerprint(value, mac: self.fingerprintMAC)
    }

    /// Inspects a plain text (tools: `rules test`): returns the decision and the redacted text.
    public func inspect(text: String, policy: CategoryPolicy = .default) throws(InspectionError) -> Decision {
        try self.inspect(body: Array(text.utf8), contentType: "text/plain", contentEncoding: nil, policy: policy)
    }

    static func decide(
        request: RequestInspection, rewritten: [UInt8]?, wasEncoded: Bool, extraBlocks: [String],
        fields: [String: String] = [:]
    ) -> Decision {
        let findings = request.findings
        let blocked = findings.filter { $0.action == .block }
        if !blocked.isEmpty || !extraBlocks.isEmpty {
            var reasons = extraBlocks
            let summary = Dictionary(grouping: blocked, by: { "\($0.category)/\($0.type)" })
                .map { "\($0.key) at \(Set($0.value.map(\.location)).sorted().joined(separator: ", "))" }.sorted()
            reasons += summary
            return Decision(verdict: .block(reason: "request blocked: " + reasons.joined(separator: "; ")),
                            findings: findings, inspectedBytes: request.inspectedBytes, fields: fields,
                            documents: request.documents, blocksBeyondFindings: !extraBlocks.isEmpty || request.isSettled)
        }
        if let rewritten {
            return Decision(verdict: .redact(body: rewritten, contentEncodingRemoved: wasEncoded), findings: findings,
                            inspectedBytes: request.inspectedBytes, fields: fields, documents: request.documents)
        }
        return Decision(verdict: .allow, findings: findings, inspectedBytes: request.inspectedBytes, fields: fields,
                        documents: request.documents)
    }

    // MARK: Formats

    /// Scans every string literal (keys too) of a JSON document; rewrites only literals that changed. The top-level
    /// string members named in `fieldNames` are copied into `fields` (decoded).
    func inspectJSON(_ body: [UInt8], request: inout RequestInspection, location: String? = nil)
        throws(InspectionError) -> [UInt8]?
    {
        var ignored: [String: String] = [:]
        return try self.inspectJSON(body, request: &request, fields: &ignored, capture: [], prefix: location)
    }

    func inspectJSON(_ body: [UInt8], request: inout RequestInspection, fields: inout [String: String])
        throws(InspectionError) -> [UInt8]?
    {
        try self.inspectJSON(body, request: &request, fields: &fields, capture: self.fieldNames, prefix: nil)
    }

    private func inspectJSON(
        _ body: [UInt8], request: inout RequestInspection, fields: inout [String: String], capture: [String],
        prefix: String?
    ) throws(InspectionError) -> [UInt8]? {
        try body.withUnsafeBufferPointer { (buffer) throws(InspectionError) -> [UInt8]? in
            var replacements: [(range: Range<Int>, bytes: [UInt8])] = []
            var walker = JSONStringWalker(body: buffer, maximumDepth: self.limits.maximumJSONDepth)
            try walker.walk { (literal, path) throws(InspectionError) in
                if !capture.isEmpty, !literal.isKey, path.steps.count == 1, case .key(let name) = path.steps[0] {
                    let key = String(decoding: JSONStringCodec.decode(buffer, literal: name), as: UTF8.self)
                    if capture.contains(key) {
                        fields[key] = String(decoding: JSONStringCodec.decode(buffer, literal: literal.range), as: UTF8.self)
                    }
                }
                let redacted: [UInt8]?
                let location = { (prefix.map { $0 + " › " } ?? "") + path.render() + (literal.isKey ? " (key)" : "") }
                if !literal.isKey, let replacement = try self.inspectCarrier(
                    buffer, literal: literal, path: path, location: location, request: &request)
                {
                    if let rewritten = replacement { replacements.append((literal.range, rewritten)) }
                    return
                }
                // A value whose member name says it is a secret is scanned with its name (`"api_token": "…"`).
                var pairedKey: [UInt8]? = nil
                if !literal.isKey, case .key(let name)? = path.steps.last,
                   RequestInspection.mayNameSecret(UnsafeBufferPointer(rebasing: buffer[name]))
                {
                    let key = JSONStringCodec.decode(buffer, literal: name)
                    if RequestInspection.namesSecret(key) { pairedKey = key }
                }
                if literal.hasEscapes {
                    let text = JSONStringCodec.decode(buffer, literal: literal.range)
                    redacted = try text.withUnsafeBufferPointer { (decoded) throws(InspectionError) -> [UInt8]? in
                        try request.inspect(decoded, location: location, pairedKey: pairedKey)
                    }
                } else {
                    let inner = (literal.range.lowerBound + 1)..<(literal.range.upperBound - 1)
                    redacted = try request.inspect(
                        UnsafeBufferPointer(rebasing: buffer[inner]), location: location, pairedKey: pairedKey)
                }
                if let redacted { replacements.append((literal.range, JSONStringCodec.encode(redacted))) }
            }
            guard !replacements.isEmpty else { return nil }
            return Self.splice(buffer, replacements)
        }
    }

    func inspectText(_ body: [UInt8], location: String, request: inout RequestInspection) throws(InspectionError) -> [UInt8]? {
        try body.withUnsafeBufferPointer { (buffer) throws(InspectionError) -> [UInt8]? in
            try request.inspect(buffer, location: { location })
        }
    }

    func inspectMultipart(_ body: [UInt8], media: MediaType, request: inout RequestInspection, policy: CategoryPolicy,
                          blockReasons: inout [String]) throws(InspectionError) -> [UInt8]?
    {
        let multipart = try MultipartBody(body: body, boundary: media.parameters["boundary"] ?? "")
        var replacements: [(range: Range<Int>, bytes: [UInt8])] = []
        for (number, part) in multipart.parts.enumerated() {
            let label = "multipart:" + (part.name ?? "#\(number)") + (part.filename.map { " (\($0))" } ?? "")
            let content = Array(body[part.content])
            if part.filename != nil || FormatSniffer.isDocument(content) {
                // A file is read by what its bytes are, whatever its name or declared type says.
                if let rewritten = try self.inspectDocument(content, declaredType: part.contentType,
                                                            filename: part.filename, location: label, request: &request)
                {
                    replacements.append((part.content, rewritten))
                }
            } else if Self.isTextPart(part, content: content) {
                let partMedia = part.contentType.map(MediaType.init)
                let redacted: [UInt8]?
                if let partMedia, partMedia.isJSON {
                    // Strictly, as for a whole body: a part the reader refuses is refused, not read as plain text
                    // (whose escapes would hide what a lenient parser decodes).
                    redacted = try self.inspectJSON(content, request: &request)
                } else {
                    redacted = try self.inspectText(content, location: label, request: &request)
                }
                if let redacted { replacements.append((part.content, redacted)) }
            } else if let rewritten = try self.inspectDocument(content, declaredType: part.contentType, filename: nil,
                                                               location: label, request: &request)
            {
                replacements.append((part.content, rewritten))
            }
        }
        guard !replacements.isEmpty else { return nil }
        return body.withUnsafeBufferPointer { Self.splice($0, replacements) }
    }

    /// Form bodies are scanned field by field after percent-decoding. Redacting them would need re-encoding, which
    /// no AI API route uses, so a form that needs redaction is blocked instead (fail closed).
    func inspectForm(_ body: [UInt8], request: inout RequestInspection, blockReasons: inout [String])
        throws(InspectionError) -> [UInt8]?
    {
        var changed = false
        for field in body.split(separator: UInt8(ascii: "&")) {
            let decoded = PercentEncoding.decode(field, plusIsSpace: true)
            if try self.inspectText(decoded, location: "form", request: &request) != nil { changed = true }
        }
        if changed { blockReasons.append("form-encoded body would need redaction") }
        return nil
    }

    /// A body without a content type: JSON when it is shaped like JSON (and then it must be valid, strict JSON),
    /// else text when it is UTF-8, else binary.
    func inspectSniffed(_ body: [UInt8], request: inout RequestInspection, fields: inout [String: String])
        throws(InspectionError) -> [UInt8]?
    {
        if Self.looksLikeJSON(body) { return try self.inspectJSON(body, request: &request, fields: &fields) }
        if ByteText.containsNUL(body) { throw .unsupportedMediaType("a body without a content type holding NUL bytes (UTF-16?)") }
        if String(validating: body, as: UTF8.self) != nil { return try self.inspectText(body, location: "$", request: &request) }
        return try self.inspectDocument(body, declaredType: nil, filename: nil, location: "body", request: &request)
    }

    /// Whether `body` starts (after whitespace) like a JSON object or array: a vendor given such a body reads it as
    /// JSON, so the gateway must too, however it is labelled.
    static func looksLikeJSON(_ body: [UInt8]) -> Bool {
        // A UTF-8 byte order mark is skipped here (parsers such as Python's accept it); the strict reader then
        // refuses the document, so such a body is refused rather than read as text.
        let start = body.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        let first = body[start...].first { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }
        return first == UInt8(ascii: "{") || first == UInt8(ascii: "[")
    }

    /// A text body with NUL bytes is not UTF-8 text a model reads (UTF-16 JSON, say, would pass every pattern with a
    /// NUL between its characters): refused as uninspectable.
    static func refuseNUL(_ body: [UInt8]) throws(InspectionError) {
        if ByteText.containsNUL(body) { throw .unsupportedMediaType("a text body holding NUL bytes (UTF-16 or binary?)") }
    }

    static func isTextPart(_ part: MultipartBody.Part, content: [UInt8]) -> Bool {
        // Whatever the part says, only UTF-8 without NUL bytes is scanned as text; anything else is a document.
        guard !ByteText.containsNUL(content), String(validating: content, as: UTF8.self) != nil else { return false }
        if part.filename == nil && (part.contentType == nil || MediaType(part.contentType!).isTextLike) { return true }
        if let type = part.contentType, MediaType(type).isTextLike { return true }
        if let filename = part.filename {
            let lower = filename.lowercased()
            let ext = lower.split(separator: ".").count > 1 ? String(lower.split(separator: ".").last!) : lower
            if MultipartBody.textExtensions.contains(ext) { return true }
        }
        // A field without a file name but with an unusual type: text if it is valid UTF-8 without NULs.
        if part.filename == nil, !ByteText.containsNUL(content), String(validating: content, as: UTF8.self) != nil { return true }
        return false
    }

    /// Copies `body`, replacing each (sorted, non-overlapping) range by its bytes.
    static func splice(_ body: UnsafeBufferPointer<UInt8>, _ replacements: [(range: Range<Int>, bytes: [UInt8])]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(body.count + 64)
        var position = 0
        for replacement in replacements.sorted(by: { $0.range.lowerBound < $1.range.lowerBound }) {
            out.append(contentsOf: UnsafeBufferPointer(rebasing: body[position..<replacement.range.lowerBound]))
            out.append(contentsOf: replacement.bytes)
            position = replacement.range.upperBound
        }
        out.append(contentsOf: UnsafeBufferPointer(rebasing: body[position..<body.count]))
        return out
    }
}
