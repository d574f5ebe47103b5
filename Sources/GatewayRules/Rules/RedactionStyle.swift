/// How a redacted value is replaced in the forwarded text.
public enum RedactionStyle: Sendable, Hashable {
    /// A typed, numbered placeholder such as `[EMAIL_1]`; the same value gets the same number within a request.
    case placeholder
    /// Every letter and digit replaced by `*` except the last `n`, separators kept: `**** **** **** 1111`.
    case mask(keepLast: Int)
    /// A typed keyed hash such as `[EMAIL:3f9a0c12d4e5]` (HMAC-SHA256 under the inspector's key, truncated), stable
    /// across requests so downstream logs can be joined without seeing the value.
    case keyedHash

    /// Parses the rule-file spelling: `placeholder`, `mask` / `mask_last4` / `mask_last_N`, `hash`.
    public init?(ruleFileName name: String) {
        switch name.lowercased() {
        case "placeholder", "typed_placeholder": self = .placeholder
        case "mask", "mask_last4": self = .mask(keepLast: 4)
        case "hash", "keyed_hash": self = .keyedHash
        default:
            let lower = name.lowercased()
            if lower.hasPrefix("mask_last_"), let count = Int(lower.dropFirst("mask_last_".count)), count >= 0 {
                self = .mask(keepLast: count)
            } else {
                return nil
            }
        }
    }
}
