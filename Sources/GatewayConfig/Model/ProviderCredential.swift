/// The vendor key a provider's requests carry (`credential: {header, value}`), set exactly once by the gateway
/// after the caller's own `Authorization` and `x-api-key` are removed.
///
/// The value never appears in `description`, `debugDescription` or reflection, so logging a configuration value
/// cannot leak a vendor key.
public struct ProviderCredential: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    /// `credential.header`: an HTTP field name, e.g. `Authorization` or `x-api-key`.
    public let header: String
    /// `credential.value` after `${NAME}` expansion, e.g. `Bearer sk-…`. May be empty (with a warning) when the
    /// default configuration runs without the variable set.
    public let value: String

    public init(header: String, value: String) {
        self.header = header
        self.value = value
    }

    public var description: String { "\(header): <redacted>" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["header": header, "value": "<redacted>"]) }
}
