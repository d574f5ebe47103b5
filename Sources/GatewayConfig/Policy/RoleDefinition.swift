/// What one role may send where (`roles.NAME` in the policy file). Deny by default: anything not granted here is
/// refused, and secrets are blocked unless the role sets `categories.secret` explicitly.
public struct RoleDefinition: Sendable, Hashable {
    /// The role's name as keys and certificate mappings refer to it.
    public let name: String
    /// `providers`, required: `"*"` or provider names.
    public let providers: ProviderSelection
    /// `paths`, default `"*"`: request path globs, within the prefixes the allowed providers route.
    public let paths: [GlobPattern]
    /// `models`, required: `"*"` or model name globs matched against the request body's `model`.
    public let models: [GlobPattern]
    /// `categories`, default none: per-category actions overriding the rule pack's default policy. Only the
    /// categories written in the file are here; see `action(forCategory:defaultAction:)`.
    public let categoryActions: [String: RoleCategoryAction]
    /// `uninspected_uploads` (formerly `binary_uploads`), default `false`: whether content the gateway cannot
    /// read (an unknown binary, an encrypted or damaged document, an image without OCR, a file the vendor fetches
    /// from a URL, a document past a limit) may pass unread. Its records then say `uninspected`.
    public let binaryUploads: Bool
    /// `ocr`, default `false`: whether images (uploads, image parts, images inside documents) are read with OCR.
    /// Without it, an image is uninspectable.
    public let readImages: Bool
    /// `max_body_bytes`, default none: a tighter body limit for this role; `limits.max_body_bytes` always applies.
    public let maxBodyBytes: Int?
    /// `rate_limit`, default none (unlimited): the token bucket each of this role's keys gets.
    public let rateLimit: RateLimit?

    /// The category whose findings are blocked for every role that does not explicitly say otherwise.
    public static let secretCategory = "secret"

    public init(
        name: String, providers: ProviderSelection, paths: [GlobPattern], models: [GlobPattern],
        categoryActions: [String: RoleCategoryAction] = [:], binaryUploads: Bool = false, maxBodyBytes: Int? = nil,
        rateLimit: RateLimit? = nil, readImages: Bool = false
    ) {
        self.readImages = readImages
        self.name = name
        self.providers = providers
        self.paths = paths
        self.models = models
        self.categoryActions = categoryActions
        self.binaryUploads = binaryUploads
        self.maxBodyBytes = maxBodyBytes
        self.rateLimit = rateLimit
    }

    public func allows(provider name: String) -> Bool { providers.includes(provider: name) }

    public func allows(path: String) -> Bool {
        let pathOnly = path.firstIndex(of: "?").map { String(path[..<$0]) } ?? path
        return paths.contains { $0.matches(pathOnly) }
    }

    public func allows(model: String) -> Bool { models.contains { $0.matches(model) } }

    /// The action for findings of `category`: this role's explicit setting, else `block` for secrets, else the
    /// rule pack's `defaultAction` for the category.
    public func action(forCategory category: String, defaultAction: RoleCategoryAction) -> RoleCategoryAction {
        if let explicit = categoryActions[category] { return explicit }
        return category == Self.secretCategory ? .block : defaultAction
    }
}
