import Foundation
import GatewayTLS

/// Test PKI made at test time (nothing is committed): one CA for the fake vendors, one for the gateway's listener,
/// so each side is trusted only through the file the test configures.
struct CoreTestPKI: Sendable {
    /// Signs the fake vendors' certificates; the gateway trusts it through `ca_file`.
    let vendorAuthority: CertificateAuthority
    /// The fake vendor's certificate: IP 127.0.0.1 and DNS localhost.
    let vendor: IssuedCertificate
    /// A certificate from the same CA that names only `wrong.example`: verification must fail for 127.0.0.1.
    let wrongHostVendor: IssuedCertificate
    /// Signs the listener's certificate; the test clients trust it.
    let listenerAuthority: CertificateAuthority
    let listener: IssuedCertificate

    /// Made once per test process: generating keys is cheap, but there is no reason to repeat it per test.
    static func shared() throws -> CoreTestPKI { try Self.cached.get() }
    private static let cached = Result { try CoreTestPKI() }

    private init() throws {
        let suffix = UUID().uuidString.prefix(8)
        self.vendorAuthority = try CertificateAuthority.create(commonName: "Fake Vendor Test CA \(suffix)")
        self.vendor = try self.vendorAuthority.issue(
            commonName: "127.0.0.1", dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"]
        )
        self.wrongHostVendor = try self.vendorAuthority.issue(commonName: "wrong.example", dnsNames: ["wrong.example"])
        self.listenerAuthority = try CertificateAuthority.create(commonName: "Gateway Listener Test CA \(suffix)")
        self.listener = try self.listenerAuthority.issue(
            commonName: "localhost", dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"]
        )
    }

    func serverContext(_ certificate: IssuedCertificate) throws -> TLSContext {
        try TLSContext.server(
            ServerTLSConfiguration(
                certificateChain: .pem(certificate.certificatePEM), privateKey: .pem(certificate.privateKeyPEM),
                sessionResumption: .disabled
            )
        )
    }

    /// What the test clients use to call the gateway: trusts only the listener's CA.
    func listenerClientContext() throws -> TLSContext {
        try TLSContext.client(
            ClientTLSConfiguration(trustRoots: .certificates(.pem(self.listenerAuthority.issued.certificatePEM)))
        )
    }
}
