/// One piece of sensitive data found in a request. Never holds the raw value: only a keyed fingerprint and a
/// masked preview, so findings can be logged and audited.
public struct Finding: Sendable, Hashable {
    public let ruleID: String
    /// Data type, e.g. `email`, `github_token`.
    public let type: String
    public let category: Category
    /// Where the value was: a JSON path such as `messages[1].content[0].text`, `$` for a whole text body, or
    /// `multipart:<field name>` for a form part.
    public let location: String
    public let confidence: Double
    /// HMAC-SHA256 of the normalised value under the inspector's key, hex, truncated to 16 characters: equal values
    /// give equal fingerprints within one deployment, without revealing the value.
    public let fingerprint: String
    /// A masked rendering safe to log, e.g. `sk-p…(164 chars)` or `…1861`.
    public let preview: String
    /// What the policy did with it.
    public let action: CategoryAction
    /// The replacement text when redacted (e.g. `[EMAIL_1]`), nil otherwise.
    public let replacement: String?
}
