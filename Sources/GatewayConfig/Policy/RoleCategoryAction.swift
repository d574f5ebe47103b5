/// What a role says happens to a request in which a finding of some category (`secret`, `pci`, `pii`, custom)
/// was made. Named apart from GatewayRules' `CategoryAction` (same raw values) because this target cannot depend
/// on the rules target, and GatewayCore imports both; GatewayCore converts between them case by case
/// (`CategoryAction.init(_:)` in AccessFilter.swift).
public enum RoleCategoryAction: String, Sendable, Hashable, CaseIterable, Comparable {
    /// Forward unchanged.
    case allow
    /// Replace the findings in the body, then forward.
    case redact
    /// Refuse the request; nothing is forwarded.
    case block

    /// Stricter actions compare greater, so combining decisions is `max`.
    public static func < (lhs: RoleCategoryAction, rhs: RoleCategoryAction) -> Bool { lhs.strictness < rhs.strictness }

    private var strictness: Int {
        switch self {
        case .allow: 0
        case .redact: 1
        case .block: 2
        }
    }
}
