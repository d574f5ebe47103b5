/// The plain-HTTP admin listener for `/healthz`, `/readyz` and `/metrics` (`admin:`).
public struct AdminSettings: Sendable, Hashable {
    /// `admin.address`, default `127.0.0.1`. A non-loopback address is refused unless `allow_remote` is true,
    /// because the admin listener has neither TLS nor authentication.
    public let address: String
    /// `admin.port`, default `9090`. `0` lets the system choose (tests).
    public let port: Int
    /// `admin.allow_remote`, default `false`.
    public let allowRemote: Bool

    public static let defaultAddress = "127.0.0.1"
    public static let defaultPort = 9090

    public init(address: String = Self.defaultAddress, port: Int = Self.defaultPort, allowRemote: Bool = false) {
        self.address = address
        self.port = port
        self.allowRemote = allowRemote
    }
}
