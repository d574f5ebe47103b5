import Foundation
import GatewayTLS
import NIOCore
import NIOPosix
import Testing

/// Our handlers on real loopback sockets against a TLS stack that is not ours: the `openssl` command-line tool
/// (`s_server` and `s_client`). Every process is started and stopped here, every wait is bounded.
@Suite(
    "TLS interop with the openssl tool over loopback",
    .enabled(if: OpenSSLTool.path != nil, "the openssl binary is not on PATH: interop tests skipped"),
    .timeLimit(.minutes(1))
)
struct TLSInteropTests {
    // MARK: - Our client against openssl s_server

    /// Starts `openssl s_server` on 127.0.0.1 with a kernel-chosen port and returns it with that port.
    private func startServer(_ extra: [String], in directory: PEMDirectory) throws -> (ToolRun, Int) {
        let server = try ToolRun(
            ["s_server", "-accept", "127.0.0.1:0", "-cert", "server.pem", "-key", "server.key", "-naccept", "1"] + extra,
            directory: directory.path
        )
        guard server.waitForOutput(containing: "ACCEPT 127.0.0.1:") else {
            server.stop()
            Issue.record("s_server did not start: \(server.text)")
            throw CancellationError()
        }
        let line = server.text.split(separator: "\n").first { $0.hasPrefix("ACCEPT 127.0.0.1:") }!
        let port = Int(line.split(separator: ":").last!.trimmingCharacters(in: .whitespaces))!
        return (server, port)
    }

    @Test func ourClientAgainstOpenSSLServerWWW() throws {
        let pki = try TestPKI()
        let directory = try PEMDirectory()
        defer { directory.remove() }
        try directory.writeServerFiles(pki)
        let (server, port) = try startServer(["-www", "-alpn", "http/1.1"], in: directory)
        defer { server.stop() }

        let client = try TLSContext.client(ClientTLSConfiguration(trustRoots: .certificates(.file(directory.file("ca.pem")))))
        let seen = try runLoopbackClient(context: client, port: port, request: "GET / HTTP/1.0\r\n\r\n")

        #expect(seen.tlsErrors.isEmpty, "client errors: \(seen.tlsErrors)")
        let details = try #require(seen.handshakes.first, "no handshake; s_server said: \(server.text)")
        #expect(details.negotiatedProtocol == "http/1.1")
        #expect(details.protocolVersion == "TLSv1.3")
        #expect(details.peer?.commonName == "localhost")
        #expect(seen.received.hasPrefix("HTTP/1.0 200 ok"), "got: \(seen.received.prefix(200))")
        // The status page is s_server's view of this very session: it saw our GET and a full TLS 1.3 handshake.
        #expect(seen.received.contains("New, TLSv1.3, Cipher is TLS_AES_128_GCM_SHA256"), "\(seen.received)")
        #expect(seen.received.trimmingCharacters(in: .whitespacesAndNewlines).hasSuffix("</HTML>"))  // all of it arrived
    }

    @Test func ourClientAgainstOpenSSLServerRevOverTLS12() throws {
        let pki = try TestPKI()
        let directory = try PEMDirectory()
        defer { directory.remove() }
        try directory.writeServerFiles(pki)
        let (server, port) = try startServer(["-rev", "-tls1_2"], in: directory)
        defer { server.stop() }

        let client = try TLSContext.client(ClientTLSConfiguration(trustRoots: .certificates(.file(directory.file("ca.pem")))))
        let token = "interop-\(UInt32.random(in: 0...UInt32.max))"
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let log = ConnectionLog()
        let channel = try ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(TLSHandler(clientContext: client, serverHostname: "127.0.0.1"))
                    try channel.pipeline.syncOperations.addHandler(LoggingHandler(log: log, echo: false))
                }
            }
            .connect(host: "127.0.0.1", port: port).wait()
        channel.writeAndFlush(ByteBuffer(string: token + "\n"), promise: nil)
        let reversed = String(token.reversed())
        #expect(log.wait { $0.received.contains(reversed) }, "got: \(log.snapshot.received); s_server: \(server.text)")
        // Our close sends close_notify; s_server -rev answers it, so the close completes cleanly.
        try channel.close().wait()
        let seen = log.snapshot
        let details = try #require(seen.handshakes.first)
        #expect(details.protocolVersion == "TLSv1.2")
        #expect(details.cipherSuite.hasPrefix("ECDHE-ECDSA-") && details.cipherSuite.contains("GCM"), "\(details.cipherSuite)")
        #expect(details.negotiatedProtocol == nil)  // s_server was given no -alpn
        #expect(seen.tlsErrors.isEmpty, "\(seen.tlsErrors)")
    }

    @Test func ourClientRefusesOpenSSLServerFromAnotherCA() throws {
        let pki = try TestPKI()
        let stranger = try TestPKI()  // same names, different CA
        let directory = try PEMDirectory()
        defer { directory.remove() }
        try directory.writeServerFiles(stranger)
        let (server, port) = try startServer(["-www"], in: directory)
        defer { server.stop() }

        let seen = try runLoopbackClient(context: try pki.clientContext(), port: port, request: "GET / HTTP/1.0\r\n\r\n")
        #expect(seen.handshakes.isEmpty)
        #expect(seen.received.isEmpty)
        let error = try #require(seen.tlsErrors.first)
        guard case .handshakeFailed(let reason, _) = error else { Issue.record("got \(error)"); return }
        #expect(reason.contains("unable to get local issuer certificate") || reason.contains("verif"), "\(reason)")
        // The request was held back: s_server never saw a GET.
        server.waitForExit(timeout: .seconds(2))
        #expect(!server.text.contains("GET /"))
    }

    // MARK: - openssl s_client against our server

    /// Runs `s_client` against our server, sending `line` and waiting for our server to echo it and close.
    private func runClient(_ extra: [String], port: Int, line: String, in directory: PEMDirectory) throws -> (status: Int32?, output: String) {
        let client = try ToolRun(
            ["s_client", "-connect", "127.0.0.1:\(port)", "-CAfile", "ca.pem", "-servername", "localhost",
             "-alpn", "http/1.1", "-ign_eof"] + extra,
            directory: directory.path
        )
        client.send(line + "\n")
        let status = client.waitForExit(timeout: .seconds(10))
        return (status, client.text)
    }

    @Test func openSSLClientAgainstOurServer() throws {
        let pki = try TestPKI()
        let directory = try PEMDirectory()
        defer { directory.remove() }
        try directory.writeServerFiles(pki)
        let server = try LoopbackTLSServer(context: try pki.serverContext())
        defer { server.stop() }

        let token = "echo-\(UInt32.random(in: 0...UInt32.max))"
        let (status, output) = try runClient([], port: server.port, line: token, in: directory)
        #expect(status == 0, "s_client: \(output)")
        #expect(output.contains("Verify return code: 0 (ok)"), "\(output)")
        #expect(output.contains("ALPN protocol: http/1.1"))
        #expect(output.contains("New, TLSv1.3"))
        // The echo: s_client prints what it decrypts; our stdin is not echoed by it.
        #expect(output.contains(token), "\(output)")
        #expect(server.log.wait { $0.closedConnections == 1 })
        let seen = server.log.snapshot
        #expect(seen.tlsErrors.isEmpty, "\(seen.tlsErrors)")
        let details = try #require(seen.handshakes.first)
        #expect(details.serverName == "localhost")
        #expect(details.negotiatedProtocol == "http/1.1")
        #expect(details.peer == nil)
        #expect(seen.received == token + "\n")
    }

    @Test(arguments: ["-tls1_3", "-tls1_2"])
    func sessionTicketsResume(version: String) throws {
        let pki = try TestPKI()
        let directory = try PEMDirectory()
        defer { directory.remove() }
        try directory.writeServerFiles(pki)
        let server = try LoopbackTLSServer(
            context: try pki.serverContext(resumption: .tickets(rotationIntervalSeconds: 3600))
        )
        defer { server.stop() }

        let first = try runClient([version, "-sess_out", "session.pem"], port: server.port, line: "one", in: directory)
        #expect(first.output.contains("New, TLSv1."), "\(first.output)")
        #expect(FileManager.default.fileExists(atPath: directory.file("session.pem")), "no ticket was issued")
        let second = try runClient([version, "-sess_in", "session.pem"], port: server.port, line: "two", in: directory)
        #expect(second.status == 0)
        #expect(second.output.contains("Reused, TLSv1."), "\(second.output)")
        #expect(second.output.contains("two"))
        #expect(server.log.wait { $0.handshakes.count == 2 })
        #expect(server.log.snapshot.handshakes.map(\.resumed) == [false, true])
    }

    @Test(arguments: ["-tls1_3", "-tls1_2"])
    func noResumptionWhenDisabled(version: String) throws {
        let pki = try TestPKI()
        let directory = try PEMDirectory()
        defer { directory.remove() }
        try directory.writeServerFiles(pki)
        // A ticket from a server that issues them, with the same certificate, to offer the one that does not.
        let issuing = try LoopbackTLSServer(context: try pki.serverContext(resumption: .tickets(rotationIntervalSeconds: 3600)))
        _ = try runClient([version, "-sess_out", "offered.pem"], port: issuing.port, line: "x", in: directory)
        issuing.stop()
        #expect(FileManager.default.fileExists(atPath: directory.file("offered.pem")))

        let server = try LoopbackTLSServer(context: try pki.serverContext(resumption: .disabled))
        defer { server.stop() }
        let first = try runClient([version, "-sess_out", "session.pem"], port: server.port, line: "one", in: directory)
        #expect(first.status == 0)
        #expect(first.output.contains("New, TLSv1."), "\(first.output)")
        // No ticket (TLS 1.3) and no session ID (TLS 1.2) means s_client has no session to save.
        #expect(!FileManager.default.fileExists(atPath: directory.file("session.pem")), "a session was issued")
        let second = try runClient([version, "-sess_in", "offered.pem"], port: server.port, line: "two", in: directory)
        #expect(second.status == 0)
        #expect(second.output.contains("New, TLSv1."), "\(second.output)")
        #expect(!second.output.contains("Reused"))
        #expect(server.log.wait { $0.handshakes.count == 2 })
        #expect(server.log.snapshot.handshakes.map(\.resumed) == [false, false])
    }

    // MARK: - Refusals

    /// The server holds an RSA certificate here, so that the suites refused below (static-RSA key exchange, CBC)
    /// would be usable by a server without our policy: the refusal is the policy's doing, not the key type's.
    @Test(arguments: [
        (["-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"], "unsupported protocol"),
        (["-tls1_2", "-cipher", "AES128-SHA"], "no shared cipher"),  // static RSA, CBC
        (["-tls1_2", "-cipher", "ECDHE-RSA-AES128-SHA"], "no shared cipher"),  // ECDHE, but CBC
        (["-tls1_2", "-cipher", "AES128-GCM-SHA256"], "no shared cipher"),  // GCM, but static RSA
    ])
    func weakClientIsRefused(options: [String], expectedReason: String) throws {
        let pki = try TestPKI(keyType: .rsa2048)
        let directory = try PEMDirectory()
        defer { directory.remove() }
        try directory.writeServerFiles(pki)
        let server = try LoopbackTLSServer(context: try pki.serverContext())
        defer { server.stop() }

        let (status, output) = try runClient(options, port: server.port, line: "must-not-arrive", in: directory)
        #expect(status != nil && status != 0, "s_client should fail: \(output)")
        #expect(output.contains("Cipher is (NONE)") || output.contains("alert"), "\(output)")
        #expect(server.log.wait { !$0.tlsErrors.isEmpty && $0.closedConnections == 1 })
        let seen = server.log.snapshot
        #expect(seen.handshakes.isEmpty)
        #expect(seen.received.isEmpty)
        let error = try #require(seen.tlsErrors.first)
        guard case .handshakeFailed(let reason, _) = error else { Issue.record("got \(error)"); return }
        #expect(reason.contains(expectedReason), "reason: \(reason)")
    }

    // MARK: - mTLS

    @Test func mutualTLSExposesTheClientIdentity() throws {
        let pki = try TestPKI()
        let alice = try pki.authority.issue(
            commonName: "alice", emailAddresses: ["alice@example.test"], usage: .client
        )
        let directory = try PEMDirectory()
        defer { directory.remove() }
        try directory.writeServerFiles(pki)
        try directory.write("alice.pem", alice.certificatePEM)
        try directory.write("alice.key", alice.privateKeyPEM)
        // The fingerprint as the other stack computes it.
        let fingerprintRun = try ToolRun(["x509", "-in", "alice.pem", "-noout", "-fingerprint", "-sha256"], directory: directory.path)
        #expect(fingerprintRun.waitForExit() == 0)
        let expectedFingerprint = String(fingerprintRun.text.split(separator: "=").last ?? "")
            .trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: ":", with: "").lowercased()
        #expect(expectedFingerprint.count == 64)

        let server = try LoopbackTLSServer(
            context: try pki.serverContext(clientCertificates: .required(trustRoots: .file(directory.file("ca.pem"))))
        )
        defer { server.stop() }
        let (status, output) = try runClient(["-cert", "alice.pem", "-key", "alice.key"], port: server.port, line: "hi", in: directory)
        #expect(status == 0, "\(output)")
        #expect(output.contains("Verify return code: 0 (ok)"))
        #expect(server.log.wait { $0.handshakes.count == 1 })
        let peer = try #require(server.log.snapshot.handshakes.first?.peer)
        #expect(peer.commonName == "alice")
        #expect(peer.subject.contains("CN=alice"))
        #expect(peer.subjectAlternativeNames.contains("email:alice@example.test"))
        #expect(peer.sha256Fingerprint == expectedFingerprint)
        #expect(server.log.snapshot.received == "hi\n")
    }

    @Test func mutualTLSRefusesAClientWithoutACertificate() throws {
        let pki = try TestPKI()
        let directory = try PEMDirectory()
        defer { directory.remove() }
        try directory.writeServerFiles(pki)
        let server = try LoopbackTLSServer(
            context: try pki.serverContext(clientCertificates: .required(trustRoots: pki.caPEM))
        )
        defer { server.stop() }
        let token = "unauthenticated-\(UInt32.random(in: 0...UInt32.max))"
        let (_, output) = try runClient([], port: server.port, line: token, in: directory)
        // In TLS 1.3 s_client thinks it is done before the server has judged its (empty) certificate, so its exit
        // status proves nothing; what matters is that the server refused and nothing was echoed or passed up.
        #expect(output.contains("alert") || output.contains("error"), "\(output)")
        #expect(!output.contains(token))
        #expect(server.log.wait { !$0.tlsErrors.isEmpty })
        let seen = server.log.snapshot
        #expect(seen.handshakes.isEmpty)
        #expect(seen.received.isEmpty)
        guard case .handshakeFailed(let reason, _) = seen.tlsErrors.first else {
            Issue.record("got \(seen.tlsErrors)")
            return
        }
        #expect(reason.contains("certificate"), "\(reason)")
    }
}
