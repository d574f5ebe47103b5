/// The location of a value inside a YAML document, printed like `providers[1].credential.header`.
///
/// Problems name the key path rather than only a line number because the same path is what an operator
/// searches for in the file and in the documentation.
public struct ConfigKeyPath: Sendable, Hashable, CustomStringConvertible {
    /// One step from a parent value to a child value.
    public enum Component: Sendable, Hashable {
        /// A key of a mapping.
        case key(String)
        /// A zero-based position in a sequence.
        case index(Int)
    }

    /// The steps from the document root; empty for the root itself.
    public let components: [Component]

    /// The document root.
    public static let root = ConfigKeyPath(components: [])

    public init(components: [Component]) {
        self.components = components
    }

    /// Parses the printed form (`a.b[2].c`) back into components; used by tests and callers that name keys literally.
    public init(_ printed: String) {
        var components: [Component] = []
        for segment in printed.split(separator: ".", omittingEmptySubsequences: true) {
            var rest = Substring(segment)
            if let bracket = rest.firstIndex(of: "[") {
                let key = rest[..<bracket]
                if !key.isEmpty { components.append(.key(String(key))) }
                rest = rest[bracket...]
                while rest.hasPrefix("["), let close = rest.firstIndex(of: "]") {
                    if let index = Int(rest[rest.index(after: rest.startIndex)..<close]) {
                        components.append(.index(index))
                    }
                    rest = rest[rest.index(after: close)...]
                }
            } else {
                components.append(.key(String(rest)))
            }
        }
        self.components = components
    }

    /// The path of a mapping entry below this one.
    public func appending(key: String) -> ConfigKeyPath {
        ConfigKeyPath(components: components + [.key(key)])
    }

    /// The path of a sequence element below this one.
    public func appending(index: Int) -> ConfigKeyPath {
        ConfigKeyPath(components: components + [.index(index)])
    }

    public var description: String {
        var printed = ""
        for component in components {
            switch component {
            case .key(let key):
                if !printed.isEmpty { printed += "." }
                printed += key
            case .index(let index):
                printed += "[\(index)]"
            }
        }
        return printed
    }
}
