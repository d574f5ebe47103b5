import GatewayTLS
import NIOCore
import NIOEmbedded
import NIOTLS
import Testing

@Suite("TLS handlers pumped in memory")
struct TLSInMemoryTests {
    @Test func handshakeNegotiatesHTTP11AndTLS13() throws {
        let pki = try TestPKI()
        let pair = try MemoryPair(
            client: try TLSHandler(clientContext: try pki.clientContext(), serverHostname: "localhost"),
            server: try TLSHandler(serverContext: try pki.serverContext())
        )
        try pair.pump()
        #expect(pair.clientRecorder.completedALPN == .some("http/1.1"))
        #expect(pair.serverRecorder.completedALPN == .some("http/1.1"))
        let details = try #require(pair.serverRecorder.handshakeDetails)
        #expect(details.protocolVersion == "TLSv1.3")
        #expect(details.serverName == "localhost")
        #expect(details.peer == nil)  // no client certificate requested
        #expect(pair.clientRecorder.handshakeDetails?.peer?.commonName == "localhost")
    }

    @Test(arguments: [1, 16_384, 1 << 20])
    func dataFlowsBothWays(size: Int) throws {
        let pki = try TestPKI()
        let pair = try MemoryPair(
            client: try TLSHandler(clientContext: try pki.clientContext(), serverHostname: "localhost"),
            server: try TLSHandler(serverContext: try pki.serverContext())
        )
        let payload = String((0..<size).map { _ in "abcdefghijklmnopqrstuvwxyz0123456789".randomElement()! })
        try pair.send(payload, from: pair.client)  // written before the handshake: held back, then sent
        try pair.pump()
        try pair.send(String(payload.reversed()), from: pair.server)
        try pair.pump()
        #expect(pair.serverRecorder.received.readableBytes == size)
        #expect(pair.serverRecorder.received.getString(at: 0, length: size) == payload)
        #expect(pair.clientRecorder.received.getString(at: 0, length: size) == String(payload.reversed()))
        #expect(pair.clientRecorder.errors.isEmpty && pair.serverRecorder.errors.isEmpty)
    }

    @Test func writesBeforeHandshakeAreNotSentInClear() throws {
        let pki = try TestPKI()
        let client = EmbeddedChannel()
        try client.pipeline.syncOperations.addHandler(
            try TLSHandler(clientContext: try pki.clientContext(), serverHostname: "localhost")
        )
        try client.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        client.writeAndFlush(ByteBuffer(string: "SECRET-PLAINTEXT"), promise: nil)
        var sent = ByteBuffer()
        while var chunk = try client.readOutbound(as: ByteBuffer.self) { sent.writeBuffer(&chunk) }
        #expect(sent.readableBytes > 0)  // the ClientHello
        #expect(!String(decoding: sent.readableBytesView, as: UTF8.self).contains("SECRET"))
        _ = try? client.finish()
    }

    @Test func closeNotifyFromClientClosesBothCleanly() throws {
        let pki = try TestPKI()
        let pair = try MemoryPair(
            client: try TLSHandler(clientContext: try pki.clientContext(), serverHostname: "localhost"),
            server: try TLSHandler(serverContext: try pki.serverContext())
        )
        try pair.pump()
        let closed = pair.client.close()
        try pair.pump()
        try closed.wait()
        #expect(pair.clientRecorder.shutdownCompleted)
        #expect(pair.serverRecorder.shutdownCompleted)
        #expect(!pair.server.isActive)
        #expect(pair.serverRecorder.tlsErrors.isEmpty && pair.clientRecorder.tlsErrors.isEmpty)
    }

    @Test func closeNotifyFromServerClosesBothCleanly() throws {
        let pki = try TestPKI()
        let pair = try MemoryPair(
            client: try TLSHandler(clientContext: try pki.clientContext(), serverHostname: "localhost"),
            server: try TLSHandler(serverContext: try pki.serverContext())
        )
        try pair.pump()
        try pair.send("last words", from: pair.server)
        let closed = pair.server.close()
        try pair.pump()
        try closed.wait()
        #expect(pair.clientRecorder.received.getString(at: 0, length: 10) == "last words")
        #expect(pair.clientRecorder.shutdownCompleted && pair.serverRecorder.shutdownCompleted)
        #expect(!pair.client.isActive)
    }

    @Test func closeNotifyTimesOutWhenThePeerIsSilent() throws {
        let pki = try TestPKI()
        let pair = try MemoryPair(
            client: try TLSHandler(clientContext: try pki.clientContext(), serverHostname: "localhost",
                                   shutdownTimeout: .seconds(2)),
            server: try TLSHandler(serverContext: try pki.serverContext())
        )
        try pair.pump()
        let closed = pair.client.close()
        _ = try pair.client.readOutbound(as: ByteBuffer.self)  // the close_notify is lost on the way
        (pair.client.eventLoop as! EmbeddedEventLoop).advanceTime(by: .seconds(3))
        #expect(throws: TLSError.closeNotifyTimedOut) { try closed.wait() }
        #expect(!pair.client.isActive)
    }

    @Test func eofWithoutCloseNotifyIsAnUncleanShutdown() throws {
        let pki = try TestPKI()
        let pair = try MemoryPair(
            client: try TLSHandler(clientContext: try pki.clientContext(), serverHostname: "localhost"),
            server: try TLSHandler(serverContext: try pki.serverContext())
        )
        try pair.pump()
        pair.server.pipeline.fireChannelInactive()  // TCP FIN with no close_notify before it
        #expect(pair.serverRecorder.tlsErrors == [.uncleanShutdown])
    }

    @Test func eofDuringHandshakeIsReported() throws {
        let pki = try TestPKI()
        let pair = try MemoryPair(
            client: try TLSHandler(clientContext: try pki.clientContext(), serverHostname: "localhost"),
            server: try TLSHandler(serverContext: try pki.serverContext())
        )
        pair.client.pipeline.fireChannelInactive()
        #expect(pair.clientRecorder.tlsErrors == [.eofDuringHandshake])
    }

    @Test func rsaCertificatesWorkToo() throws {
        let pki = try TestPKI(keyType: .rsa2048)
        let pair = try MemoryPair(
            client: try TLSHandler(clientContext: try pki.clientContext(), serverHostname: "localhost"),
            server: try TLSHandler(serverContext: try pki.serverContext())
        )
        try pair.send("ping", from: pair.client)
        try pair.pump()
        #expect(pair.serverRecorder.received.getString(at: 0, length: 4) == "ping")
    }

    @Test func ipAddressIsVerifiedAgainstIPSubjectAltName() throws {
        let pki = try TestPKI(serverNames: ["localhost"], serverIPs: ["127.0.0.1"])
        let good = try MemoryPair(
            client: try TLSHandler(clientContext: try pki.clientContext(), serverHostname: "127.0.0.1"),
            server: try TLSHandler(serverContext: try pki.serverContext())
        )
        try good.pump()
        #expect(good.clientRecorder.handshakeDetails != nil)
        let bad = try MemoryPair(
            client: try TLSHandler(clientContext: try pki.clientContext(), serverHostname: "127.0.0.2"),
            server: try TLSHandler(serverContext: try pki.serverContext())
        )
        try bad.pump()
        #expect(bad.clientRecorder.handshakeDetails == nil)
        #expect(bad.clientRecorder.tlsErrors.count == 1)
    }

    @Test func sessionTicketsAreIssuedAndRotationKeepsServing() throws {
        let pki = try TestPKI()
        let server = try pki.serverContext(resumption: .tickets(rotationIntervalSeconds: 3600))
        let first = try MemoryPair(
            client: try TLSHandler(clientContext: try pki.clientContext(), serverHostname: "localhost"),
            server: try TLSHandler(serverContext: server)
        )
        try first.pump()
        #expect(first.serverRecorder.handshakeDetails?.resumed == false)
        #expect(first.serverRecorder.errors.isEmpty && first.clientRecorder.errors.isEmpty)
        server.rotateSessionTicketKeys()
        let second = try MemoryPair(
            client: try TLSHandler(clientContext: try pki.clientContext(), serverHostname: "localhost"),
            server: try TLSHandler(serverContext: server)
        )
        try second.send("after rotation", from: second.client)
        try second.pump()
        #expect(second.serverRecorder.received.readableBytes == 14)
    }
}
