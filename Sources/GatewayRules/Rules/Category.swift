/// What family a rule's data belongs to; the policy decides per category. `secret`, `pci` and `pii` are built in;
/// rule files may name any other (custom) category, which the default policy blocks.
public struct Category: RawRepresentable, Hashable, Sendable, Comparable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ name: String) { self.rawValue = name }

    public static let secret = Category("secret")
    public static let pci = Category("pci")
    public static let pii = Category("pii")

    public var description: String { self.rawValue }
    public static func < (lhs: Category, rhs: Category) -> Bool { lhs.rawValue < rhs.rawValue }
}
