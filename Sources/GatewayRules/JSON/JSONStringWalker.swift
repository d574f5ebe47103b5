/// A strict parser over bytes that produces no tree: it validates the whole document and reports every string
/// literal (object keys and values) with its byte range and JSON path. Because nothing is rebuilt, a caller that
/// replaces some string literals and copies every other byte keeps the document's exact structure and formatting.
///
/// It is the gateway's one JSON reader: policy fields (`model`) and inspection read the same walk, so the two can
/// never disagree about what a document says. It accepts only I-JSON (RFC 7493), the subset every vendor's parser
/// reads the same way:
/// - no object holds the same member name twice, compared after unescaping (`"model"` and `"mod\u0065l"` are the
///   same name), at any depth: parsers disagree on which of two duplicates wins;
/// - every string is valid UTF-8 and no `\u` escape is a lone surrogate: parsers disagree on how to repair them.
struct JSONStringWalker {
    /// A string literal in the document.
    struct StringLiteral {
        /// Byte range including the quotes.
        let range: Range<Int>
        let hasEscapes: Bool
        let isKey: Bool
    }

    /// The path to the literal being visited. Keys stay byte ranges until the path is rendered (only for a finding),
    /// so walking allocates no string per member name.
    struct Path {
        enum Step {
            case key(Range<Int>)
            case index(Int)
        }
        let steps: [Step]
        let body: UnsafeBufferPointer<UInt8>

        var components: [JSONPathComponent] {
            self.steps.map { step in
                switch step {
                case .index(let index): .index(index)
                case .key(let range):
                    .key(String(decoding: JSONStringCodec.decode(self.body, literal: range), as: UTF8.self))
                }
            }
        }

        /// E.g. `messages[1].content`; see `JSONPathComponent.render`.
        func render() -> String { JSONPathComponent.render(self.components) }
    }

    let body: UnsafeBufferPointer<UInt8>
    let maximumDepth: Int
    private var index = 0
    private var path: [Path.Step] = []
    /// The member names of the objects being read, innermost last (see `MemberNames`).
    private var memberNames = MemberNames()

    init(body: UnsafeBufferPointer<UInt8>, maximumDepth: Int = 512) {
        self.body = body
        self.maximumDepth = maximumDepth
    }

    /// Walks the document, calling `visit` for each string literal with the path of the value (for a key: the path
    /// of the member it names). Throws `.invalidBody` at the first syntax error, or what `visit` throws.
    mutating func walk(_ visit: (StringLiteral, Path) throws(InspectionError) -> Void)
        throws(InspectionError)
    {
        self.index = 0
        self.skipWhitespace()
        try self.value(depth: 0, visit)
        self.skipWhitespace()
        if self.index != self.body.count { throw self.error("trailing data after the JSON value") }
    }

    private func error(_ message: String) -> InspectionError {
        .invalidBody("invalid JSON at byte \(self.index): \(message)")
    }

    private mutating func skipWhitespace() {
        while self.index < self.body.count {
            switch self.body[self.index] {
            case 0x20, 0x09, 0x0A, 0x0D: self.index += 1
            default: return
            }
        }
    }

    private mutating func value(depth: Int, _ visit: (StringLiteral, Path) throws(InspectionError) -> Void)
        throws(InspectionError)
    {
        guard self.index < self.body.count else { throw self.error("unexpected end of input") }
        switch self.body[self.index] {
        case UInt8(ascii: "{"):
            guard depth < self.maximumDepth else { throw self.error("nesting deeper than \(self.maximumDepth)") }
            self.index += 1
            self.skipWhitespace()
            if self.peek(UInt8(ascii: "}")) { self.index += 1; return }
            self.memberNames.enterObject()
            defer { self.memberNames.leaveObject() }
            while true {
                self.skipWhitespace()
                guard self.peek(UInt8(ascii: "\"")) else { throw self.error("expected a member name") }
                let nameStart = self.index
                let key = try self.string()
                if !self.memberNames.insert(key.range, hasEscapes: key.hasEscapes, in: self.body) {
                    self.index = nameStart
                    throw self.error("duplicate member name \(Self.quoted(key.range, in: self.body))")
                }
                self.path.append(.key(key.range))
                try visit(StringLiteral(range: key.range, hasEscapes: key.hasEscapes, isKey: true), self.currentPath)
                self.skipWhitespace()
                guard self.peek(UInt8(ascii: ":")) else { throw self.error("expected ':'") }
                self.index += 1
                self.skipWhitespace()
                try self.value(depth: depth + 1, visit)
                self.path.removeLast()
                self.skipWhitespace()
                if self.peek(UInt8(ascii: ",")) { self.index += 1; continue }
                if self.peek(UInt8(ascii: "}")) { self.index += 1; return }
                throw self.error("expected ',' or '}'")
            }
        case UInt8(ascii: "["):
            guard depth < self.maximumDepth else { throw self.error("nesting deeper than \(self.maximumDepth)") }
            self.index += 1
            self.skipWhitespace()
            if self.peek(UInt8(ascii: "]")) { self.index += 1; return }
            var element = 0
            while true {
                self.skipWhitespace()
                self.path.append(.index(element))
                try self.value(depth: depth + 1, visit)
                self.path.removeLast()
                element += 1
                self.skipWhitespace()
                if self.peek(UInt8(ascii: ",")) { self.index += 1; continue }
                if self.peek(UInt8(ascii: "]")) { self.index += 1; return }
                throw self.error("expected ',' or ']'")
            }
        case UInt8(ascii: "\""):
            let literal = try self.string()
            try visit(StringLiteral(range: literal.range, hasEscapes: literal.hasEscapes, isKey: false), self.currentPath)
        case UInt8(ascii: "t"): try self.literal("true")
        case UInt8(ascii: "f"): try self.literal("false")
        case UInt8(ascii: "n"): try self.literal("null")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try self.number()
        default: throw self.error("unexpected character")
        }
    }

    private var currentPath: Path { Path(steps: self.path, body: self.body) }

    private func peek(_ byte: UInt8) -> Bool { self.index < self.body.count && self.body[self.index] == byte }

    private mutating func literal(_ word: StaticString) throws(InspectionError) {
        let count = word.utf8CodeUnitCount
        guard self.index + count <= self.body.count else { throw self.error("unexpected end of input") }
        let expected = UnsafeBufferPointer(start: word.utf8Start, count: count)
        for offset in 0..<count where self.body[self.index + offset] != expected[offset] {
            throw self.error("invalid literal")
        }
        self.index += count
    }

    private mutating func number() throws(InspectionError) {
        let start = self.index
        if self.peek(UInt8(ascii: "-")) { self.index += 1 }
        guard self.index < self.body.count else { throw self.error("bad number") }
        if self.body[self.index] == UInt8(ascii: "0") {
            self.index += 1
        } else if self.digits() == 0 {
            throw self.error("bad number")
        }
        if self.peek(UInt8(ascii: ".")) {
            self.index += 1
            if self.digits() == 0 { throw self.error("bad number fraction") }
        }
        if self.peek(UInt8(ascii: "e")) || self.peek(UInt8(ascii: "E")) {
            self.index += 1
            if self.peek(UInt8(ascii: "+")) || self.peek(UInt8(ascii: "-")) { self.index += 1 }
            if self.digits() == 0 { throw self.error("bad number exponent") }
        }
        _ = start
    }

    private mutating func digits() -> Int {
        var count = 0
        while self.index < self.body.count, self.body[self.index] &- 48 < 10 {
            self.index += 1
            count += 1
        }
        return count
    }

    /// Scans a string literal starting at the opening quote; validates escapes (a `\\u` surrogate only as half of a
    /// pair) and UTF-8, and rejects raw control characters.
    private mutating func string() throws(InspectionError) -> (range: Range<Int>, hasEscapes: Bool) {
        let start = self.index
        self.index += 1
        var hasEscapes = false
        while self.index < self.body.count {
            let byte = self.body[self.index]
            if byte == UInt8(ascii: "\"") {
                self.index += 1
                return (start..<self.index, hasEscapes)
            }
            if byte < 0x20 { throw self.error("control character in string") }
            if byte >= 0x80 {
                let length = UTF8Validation.sequenceLength(self.body, at: self.index)
                guard length > 0 else { throw self.error("invalid UTF-8 in string") }
                self.index += length
                continue
            }
            if byte == UInt8(ascii: "\\") {
                hasEscapes = true
                guard self.index + 1 < self.body.count else { break }
                switch self.body[self.index + 1] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                    UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    self.index += 2
                case UInt8(ascii: "u"):
                    let unit = try self.unicodeEscape(at: self.index)
                    self.index += 6
                    if (0xDC00...0xDFFF).contains(unit) { throw self.error("lone low surrogate escape") }
                    if (0xD800...0xDBFF).contains(unit) {
                        // Only a low surrogate escape may follow; together they are one scalar.
                        guard self.peek(UInt8(ascii: "\\")), self.index + 1 < self.body.count,
                            self.body[self.index + 1] == UInt8(ascii: "u"),
                            (0xDC00...0xDFFF).contains(try self.unicodeEscape(at: self.index))
                        else { throw self.error("lone high surrogate escape") }
                        self.index += 6
                    }
                default: throw self.error("bad escape")
                }
                continue
            }
            self.index += 1
        }
        throw self.error("unterminated string")
    }

    /// The code unit of the `\\uXXXX` escape at `position` (the backslash).
    private func unicodeEscape(at position: Int) throws(InspectionError) -> UInt32 {
        guard position + 6 <= self.body.count else { throw self.error("bad \\u escape") }
        var unit: UInt32 = 0
        for offset in 2..<6 {
            guard let digit = PercentEncoding.hexDigitValue(self.body[position + offset]) else {
                throw self.error("bad \\u escape")
            }
            unit = unit << 4 | UInt32(digit)
        }
        return unit
    }

    /// A member name for an error message: decoded, at most 64 bytes (names are not sensitive values, but bounded).
    private static func quoted(_ literal: Range<Int>, in body: UnsafeBufferPointer<UInt8>) -> String {
        let name = JSONStringCodec.decode(body, literal: literal)
        let shown = String(decoding: name.prefix(64), as: UTF8.self)
        return "\"" + shown + (name.count > 64 ? "…" : "") + "\""
    }
}
