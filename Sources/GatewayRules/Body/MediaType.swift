import Foundation

/// A parsed `Content-Type`: lower-cased `type/subtype` and its parameters.
struct MediaType {
    let essence: String
    let parameters: [String: String]

    init(_ header: String) {
        let parts = header.split(separator: ";", omittingEmptySubsequences: false)
        self.essence = (parts.first.map(String.init) ?? "").trimmingCharacters(in: .whitespaces).lowercased()
        var parameters: [String: String] = [:]
        for part in parts.dropFirst() {
            guard let equals = part.firstIndex(of: "=") else { continue }
            let name = part[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            var value = part[part.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            if value.hasPrefix("\"") && value.hasSuffix("\"") && value.count >= 2 { value = String(value.dropFirst().dropLast()) }
            parameters[name] = value
        }
        self.parameters = parameters
    }

    var isJSON: Bool { self.essence == "application/json" || self.essence.hasSuffix("+json") || self.essence == "text/json" }
    var isMultipart: Bool { self.essence == "multipart/form-data" || self.essence == "multipart/mixed" }
    var isFormURLEncoded: Bool { self.essence == "application/x-www-form-urlencoded" }

    /// Text-like content that is scanned as text.
    var isTextLike: Bool {
        if self.essence.hasPrefix("text/") { return true }
        let textual: Set<String> = [
            "application/xml", "application/yaml", "application/x-yaml", "application/javascript",
            "application/x-ndjson", "application/jsonl", "application/x-jsonlines", "application/csv",
            "application/sql", "application/x-sh", "application/x-python", "application/toml", "application/graphql",
        ]
        return textual.contains(self.essence) || self.essence.hasSuffix("+xml") || self.isJSON
    }
}
