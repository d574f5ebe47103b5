/// The providers a role may use (`roles.NAME.providers`): `"*"` or a list of provider names.
public enum ProviderSelection: Sendable, Hashable {
    /// `"*"`: every provider in the configuration, including ones added later.
    case all
    /// Exactly these provider names (validated against `providers[].name`).
    case named([String])

    public func includes(provider name: String) -> Bool {
        switch self {
        case .all: true
        case .named(let names): names.contains(name)
        }
    }
}
