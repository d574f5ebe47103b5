import Foundation

/// A `multipart/form-data` body split into parts, each with its headers and the byte range of its content.
struct MultipartBody {
    struct Part {
        let name: String?
        let filename: String?
        let contentType: String?
        /// Content bytes of the part inside the whole body.
        let content: Range<Int>
    }

    let parts: [Part]

    /// Parses `body` with `boundary`; throws `.invalidBody` when the delimiters are missing or malformed.
    init(body: [UInt8], boundary: String) throws(InspectionError) {
        guard !boundary.isEmpty, boundary.utf8.count <= 200 else { throw .invalidBody("multipart boundary missing or too long") }
        let delimiter = Array("--\(boundary)".utf8)
        var positions: [Int] = []
        var search = 0
        while let found = Self.find(delimiter, in: body, from: search) {
            // A delimiter must start the body or follow CRLF.
            if found == 0 || (found >= 2 && body[found - 2] == 0x0D && body[found - 1] == 0x0A) { positions.append(found) }
            search = found + delimiter.count
        }
        guard positions.count >= 2 else { throw .invalidBody("multipart body has no complete part") }
        var parts: [Part] = []
        for (number, start) in positions.dropLast().enumerated() {
            var headerStart = start + delimiter.count
            if headerStart + 2 <= body.count && body[headerStart] == 0x2D && body[headerStart + 1] == 0x2D { break }
            // Skip transport padding up to CRLF.
            while headerStart < body.count && body[headerStart] != 0x0A { headerStart += 1 }
            headerStart += 1
            guard let headerEnd = Self.find([0x0D, 0x0A, 0x0D, 0x0A], in: body, from: headerStart - 2) else {
                throw .invalidBody("multipart part \(number) has no header terminator")
            }
            let contentStart = headerEnd + 4
            let contentEnd = positions[number + 1] - 2
            guard contentStart <= contentEnd else { throw .invalidBody("multipart part \(number) is malformed") }
            // A part may have no header fields at all (RFC 2046): its blank line is the one right after the
            // boundary line, found before `headerStart`.
            let headerText = headerEnd > headerStart ? String(decoding: body[headerStart..<headerEnd], as: UTF8.self) : ""
            var name: String?
            var filename: String?
            var contentType: String?
            for line in headerText.split(whereSeparator: { $0 == "\r\n" || $0 == "\n" }) {
                guard let colon = line.firstIndex(of: ":") else { continue }
                let field = line[..<colon].lowercased().trimmingCharacters(in: .whitespaces)
                let value = String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
                if field == "content-disposition" {
                    let media = MediaType(value)
                    name = media.parameters["name"]
                    // `filename*` (RFC 5987, `utf-8''report%20q3.pdf`) names a file as much as `filename` does.
                    filename = media.parameters["filename"] ?? media.parameters["filename*"].map { value in
                        let encoded = value.split(separator: "'", maxSplits: 2, omittingEmptySubsequences: false).last
                            .map(String.init) ?? value
                        return String(decoding: PercentEncoding.decode(Array(encoded.utf8), plusIsSpace: false), as: UTF8.self)
                    }
                } else if field == "content-type" {
                    contentType = value
                }
            }
            parts.append(Part(name: name, filename: filename, contentType: contentType, content: contentStart..<contentEnd))
        }
        self.parts = parts
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard needle.count <= haystack.count, start <= haystack.count - needle.count else { return nil }
        var index = max(0, start)
        let first = needle[0]
        while index <= haystack.count - needle.count {
            if haystack[index] == first && haystack[index..<(index + needle.count)].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }

    /// File extensions whose content is scanned as text.
    static let textExtensions: Set<String> = [
        "txt", "text", "csv", "tsv", "json", "jsonl", "ndjson", "md", "markdown", "rst", "yaml", "yml", "toml", "ini",
        "cfg", "conf", "env", "properties", "xml", "html", "htm", "log", "sql", "sh", "bash", "zsh", "ps1", "py", "rb",
        "js", "mjs", "cjs", "ts", "tsx", "jsx", "java", "kt", "kts", "scala", "go", "rs", "c", "h", "cc", "cpp", "hpp",
        "cs", "swift", "m", "mm", "php", "pl", "lua", "r", "dart", "ex", "exs", "erl", "hs", "clj", "vue", "svelte",
        "css", "scss", "tf", "hcl", "gradle", "dockerfile", "makefile", "pem", "key", "crt", "srt", "vtt",
    ]
}

/// Reading one field of a `multipart/form-data` body, for the HTTP layer (an Uploads part's `data`), with the same
/// parser inspection used, so both see one body.
public enum MultipartForm {
    /// The content of the first part named `field`, or nil (no such part, or not multipart).
    public static func content(ofField field: String, in body: [UInt8], contentType: String) -> [UInt8]? {
        let media = MediaType(contentType)
        guard media.isMultipart, let parsed = try? MultipartBody(body: body, boundary: media.parameters["boundary"] ?? "")
        else { return nil }
        return parsed.parts.first { $0.name == field }.map { Array(body[$0.content]) }
    }
}
