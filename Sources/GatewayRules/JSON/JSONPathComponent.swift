/// One step of a JSON path: an object member or an array element.
public enum JSONPathComponent: Sendable, Hashable {
    case key(String)
    case index(Int)

    /// Renders a path like `messages[1].content[0].text`; the root alone is `$`.
    public static func render(_ path: [JSONPathComponent]) -> String {
        guard !path.isEmpty else { return "$" }
        var text = ""
        for component in path {
            switch component {
            case .index(let index): text += "[\(index)]"
            case .key(let key):
                if !key.isEmpty && key.utf8.allSatisfy({ isIdentifierByte($0) }) {
                    text += text.isEmpty ? key : "." + key
                } else {
                    text += "[\(key.debugDescription)]"
                }
            }
        }
        return text
    }

    private static func isIdentifierByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"):
            return true
        default: return false
        }
    }
}
