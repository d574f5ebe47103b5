/// What to do with data of one category.
public enum CategoryAction: String, Sendable, Hashable, Codable, CaseIterable {
    /// Forward unchanged (the finding is still reported).
    case allow
    /// Replace the value in the forwarded body.
    case redact
    /// Refuse the whole request.
    case block

    /// Severity order used when several findings disagree: block > redact > allow.
    public var severity: Int {
        switch self {
        case .allow: return 0
        case .redact: return 1
        case .block: return 2
        }
    }
}

/// The action for one category plus, for `redact`, an optional redaction style overriding the rule's own.
public struct CategoryTreatment: Sendable, Hashable {
    public var action: CategoryAction
    public var style: RedactionStyle?

    public init(_ action: CategoryAction, style: RedactionStyle? = nil) {
        self.action = action
        self.style = style
    }
}

/// The policy one inspection runs under. A plain value, passed per call, so a role-level override can be applied
/// per request (`overriding(_:)`) without touching the shared rule set.
public struct CategoryPolicy: Sendable, Hashable {
    public var treatments: [Category: CategoryTreatment]
    /// Treatment for categories not in `treatments` (custom categories): block unless configured.
    public var fallback: CategoryTreatment
    /// Findings below this confidence are ignored.
    public var minimumConfidence: Double
    /// Content that cannot be inspected (an unknown binary, an encrypted PDF, an image without OCR, a file the
    /// vendor fetches from a URL, a document past a limit) blocks the request unless this is true; then it is
    /// forwarded unread and the decision says `uninspected`.
    public var allowUninspected: Bool
    /// Whether images are read by OCR (when the gateway has an OCR reader); otherwise an image is uninspectable.
    public var readImages: Bool

    public init(treatments: [Category: CategoryTreatment], fallback: CategoryTreatment = CategoryTreatment(.block),
                minimumConfidence: Double = 0.5, allowUninspected: Bool = false, readImages: Bool = false)
    {
        self.treatments = treatments
        self.fallback = fallback
        self.minimumConfidence = minimumConfidence
        self.allowUninspected = allowUninspected
        self.readImages = readImages
    }

    /// secret -> block; pci -> redact masking all but the last 4; pii -> redact with typed placeholders;
    /// anything else -> block.
    public static let `default` = CategoryPolicy(treatments: [
        .secret: CategoryTreatment(.block),
        .pci: CategoryTreatment(.redact, style: .mask(keepLast: 4)),
        .pii: CategoryTreatment(.redact, style: .placeholder),
    ])

    public func treatment(for category: Category) -> CategoryTreatment {
        self.treatments[category] ?? self.fallback
    }

    /// A copy with some categories' treatments replaced (e.g. a role's overrides).
    public func overriding(_ overrides: [Category: CategoryTreatment]) -> CategoryPolicy {
        var copy = self
        copy.treatments.merge(overrides) { _, new in new }
        return copy
    }
}
