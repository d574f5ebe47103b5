import Foundation

/// A parsed `Content-Type`: lower-cased `type/subtype` and its parameters.
struct MediaType {
    let essence: String
    let parameters: [String: String]

    init(_ header: String) {
        let parts = header.utf8.split(separator: UInt8(ascii: ";"), omittingEmptySubsequences: false)
        self.essence = parts.first.map { Self.trimmed($0).lowercased() } ?? ""
        var parameters: [String: String] = [:]
        for part in parts.dropFirst() {
            guard let equals = part.firstIndex(of: UInt8(ascii: "=")) else { continue }
            let name = Self.trimmed(part[..<equals]).lowercased()
            var value = Self.trimmed(part[part.index(after: equals)...])
            if value.hasPrefix("\"") && value.hasSuffix("\"") && value.count >= 2 { value = String(value.dropFirst().dropLast()) }
            parameters[name] = value
        }
        self.parameters = parameters
    }

    /// `text` without the spaces and tabs HTTP allows around tokens.
    private static func trimmed(_ text: Substring.UTF8View) -> String {
        let isBlank = { (byte: UInt8) in byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        guard let first = text.firstIndex(where: { !isBlank($0) }), let last = text.lastIndex(where: { !isBlank($0) })
        else { return "" }
        return String(Substring(text[first...last]))
    }

    var isJSON: Bool { self.essence == "application/json" || self.essence.hasSuffix("+json") || self.essence == "text/json" }
    var isMultipart: Bool { self.essence == "multipart/form-data" || self.essence == "multipart/mixed" }
    var isFormURLEncoded: Bool { self.essence == "application/x-www-form-urlencoded" }

    private static let textual: Set<String> = [
        "application/xml", "application/yaml", "application/x-yaml", "application/javascript",
        "application/x-ndjson", "application/jsonl", "application/x-jsonlines", "application/csv",
        "application/sql", "application/x-sh", "application/x-python", "application/toml", "application/graphql",
    ]

    /// Text-like content that is scanned as text.
    var isTextLike: Bool {
        if self.essence.hasPrefix("text/") { return true }
        return Self.textual.contains(self.essence) || self.essence.hasSuffix("+xml") || self.isJSON
    }
}
