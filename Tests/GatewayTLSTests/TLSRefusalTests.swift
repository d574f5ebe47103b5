import GatewayTLS
import NIOCore
import NIOEmbedded
import Testing

@Suite("TLS refuses what it must")
struct TLSRefusalTests {
    private func handshakeError(_ pair: MemoryPair) throws -> TLSError? {
        try pair.pump()
        return pair.clientRecorder.tlsErrors.first
    }

    @Test func hostnameMismatchIsRefused() throws {
        let pki = try TestPKI(serverNames: ["api.example.test"], serverIPs: [])
        let pair = try MemoryPair(
            client: try TLSHandler(clientContext: try pki.clientContext(), serverHostname: "api.other.test"),
            server: try TLSHandler(serverContext: try pki.serverContext())
        )
        pair.client.writeAndFlush(ByteBuffer(string: "vendor-key"), promise: nil)
        let error = try #require(try handshakeError(pair))
        guard case .handshakeFailed(let reason, _) = error else { Issue.record("got \(error)"); return }
        #expect(reason.contains("hostname mismatch"))
        #expect(pair.serverRecorder.received.readableBytes == 0)  // the held write never left
        #expect(!pair.client.isActive)
    }

    @Test func untrustedCAIsRefused() throws {
        let pki = try TestPKI()
        let stranger = try CertificateAuthority.create(commonName: "Someone Else")
        let pair = try MemoryPair(
            client: try TLSHandler(
                clientContext: try pki.clientContext(trusting: .pem(stranger.issued.certificatePEM)),
                serverHostname: "localhost"
            ),
            server: try TLSHandler(serverContext: try pki.serverContext())
        )
        let error = try #require(try handshakeError(pair))
        guard case .handshakeFailed(let reason, _) = error else { Issue.record("got \(error)"); return }
        #expect(reason.contains("unable to get local issuer certificate"))
    }

    @Test func expiredCertificateIsRefused() throws {
        let pki = try TestPKI(notBeforeOffset: -10 * 86_400, notAfterOffset: -86_400)
        let pair = try MemoryPair(
            client: try TLSHandler(clientContext: try pki.clientContext(), serverHostname: "localhost"),
            server: try TLSHandler(serverContext: try pki.serverContext())
        )
        let error = try #require(try handshakeError(pair))
        guard case .handshakeFailed(let reason, _) = error else { Issue.record("got \(error)"); return }
        #expect(reason.contains("certificate has expired"))
    }

    @Test func mtlsRequiredWithoutClientCertificateIsRefused() throws {
        let pki = try TestPKI()
        let pair = try MemoryPair(
            client: try TLSHandler(clientContext: try pki.clientContext(), serverHostname: "localhost"),
            server: try TLSHandler(serverContext: try pki.serverContext(clientCertificates: .required(trustRoots: pki.caPEM)))
        )
        try pair.pump()
        #expect(pair.serverRecorder.handshakeDetails == nil)
        let error = try #require(pair.serverRecorder.tlsErrors.first)
        guard case .handshakeFailed(let reason, _) = error else { Issue.record("got \(error)"); return }
        #expect(reason.contains("certificate"))
        #expect(!pair.server.isActive)
    }

    @Test func mtlsClientCertificateFromAnotherCAIsRefused() throws {
        let pki = try TestPKI()
        let otherCA = try CertificateAuthority.create(commonName: "Rogue CA")
        let rogue = try otherCA.issue(commonName: "mallory", usage: .client)
        let pair = try MemoryPair(
            client: try TLSHandler(clientContext: try pki.clientContext(certificate: rogue), serverHostname: "localhost"),
            server: try TLSHandler(serverContext: try pki.serverContext(clientCertificates: .optional(trustRoots: pki.caPEM)))
        )
        try pair.pump()
        #expect(pair.serverRecorder.handshakeDetails == nil)
        let error = try #require(pair.serverRecorder.tlsErrors.first)
        guard case .handshakeFailed(let reason, _) = error else { Issue.record("got \(error)"); return }
        #expect(reason.contains("certificate verification failed"))
    }

    @Test func mtlsValidClientCertificateExposesIdentity() throws {
        let pki = try TestPKI()
        let alice = try pki.authority.issue(
            commonName: "alice", emailAddresses: ["alice@example.test"], usage: .client
        )
        let pair = try MemoryPair(
            client: try TLSHandler(clientContext: try pki.clientContext(certificate: alice), serverHostname: "localhost"),
            server: try TLSHandler(serverContext: try pki.serverContext(clientCertificates: .required(trustRoots: pki.caPEM)))
        )
        try pair.pump()
        let peer = try #require(pair.serverRecorder.handshakeDetails?.peer)
        #expect(peer.commonName == "alice")
        #expect(peer.subject == "CN=alice")
        #expect(peer.subjectAlternativeNames == ["email:alice@example.test"])
        #expect(peer.sha256Fingerprint.count == 64)
        #expect(peer.sha256Fingerprint == (try CertificateFingerprint.sha256(pem: alice.certificatePEM)))
    }

    @Test func mismatchedKeyIsAConfigurationError() throws {
        let pki = try TestPKI()
        let other = try pki.authority.issue(commonName: "other")
        #expect(throws: TLSError.self) {
            try TLSContext.server(
                ServerTLSConfiguration(certificateChain: .pem(pki.server.certificatePEM), privateKey: .pem(other.privateKeyPEM))
            )
        }
        #expect(throws: TLSError.self) {
            try TLSContext.server(ServerTLSConfiguration(certificateChain: .file("/nonexistent.pem"), privateKey: .file("/nonexistent.key")))
        }
    }
}
