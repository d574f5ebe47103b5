import Foundation
import GatewayTLS
import NIOCore
import NIOEmbedded
import NIOTLS

/// Test PKI made fresh for each use: nothing is committed.
struct TestPKI {
    let authority: CertificateAuthority
    let server: IssuedCertificate

    init(serverNames: [String] = ["localhost"], serverIPs: [String] = ["127.0.0.1"], keyType: GeneratedKeyType = .ecP256,
         notBeforeOffset: Int = -300, notAfterOffset: Int = 86_400) throws {
        self.authority = try CertificateAuthority.create(commonName: "Test CA \(UUID().uuidString.prefix(8))")
        self.server = try self.authority.issue(
            commonName: serverNames.first ?? "server", dnsNames: serverNames, ipAddresses: serverIPs,
            usage: .server, keyType: keyType, notBeforeOffset: notBeforeOffset, notAfterOffset: notAfterOffset
        )
    }

    var caPEM: PEMSource { .pem(self.authority.issued.certificatePEM) }

    func serverContext(
        clientCertificates: ClientCertificateMode = .none, resumption: SessionResumption = .disabled
    ) throws -> TLSContext {
        try TLSContext.server(
            ServerTLSConfiguration(
                certificateChain: .pem(self.server.certificatePEM), privateKey: .pem(self.server.privateKeyPEM),
                clientCertificates: clientCertificates, sessionResumption: resumption
            )
        )
    }

    func clientContext(trusting roots: PEMSource? = nil, certificate: IssuedCertificate? = nil) throws -> TLSContext {
        try TLSContext.client(
            ClientTLSConfiguration(
                trustRoots: .certificates(roots ?? self.caPEM),
                certificateChain: certificate.map { .pem($0.certificatePEM) },
                privateKey: certificate.map { .pem($0.privateKeyPEM) }
            )
        )
    }
}

/// Records what reaches the top of a pipeline: plaintext, user events, errors.
final class Recorder: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    var received = ByteBuffer()
    var events: [Any] = []
    var errors: [Error] = []
    var inactive = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = self.unwrapInboundIn(data)
        self.received.writeBuffer(&buffer)
    }
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) { self.events.append(event) }
    func errorCaught(context: ChannelHandlerContext, error: Error) { self.errors.append(error) }
    func channelInactive(context: ChannelHandlerContext) { self.inactive = true }

    var handshakeDetails: TLSHandshakeDetails? { self.events.lazy.compactMap { $0 as? TLSHandshakeDetails }.first }
    var completedALPN: String?? {
        for case let event as TLSUserEvent in self.events {
            if case .handshakeCompleted(let alpn) = event { return .some(alpn) }
        }
        return nil
    }
    var shutdownCompleted: Bool {
        self.events.contains { ($0 as? TLSUserEvent) == .shutdownCompleted }
    }
    var tlsErrors: [TLSError] { self.errors.compactMap { $0 as? TLSError } }
}

/// A client and a server channel joined in memory.
struct MemoryPair {
    let client: EmbeddedChannel
    let server: EmbeddedChannel
    let clientRecorder = Recorder()
    let serverRecorder = Recorder()

    init(client clientHandler: TLSHandler, server serverHandler: TLSHandler) throws {
        self.client = EmbeddedChannel()
        self.server = EmbeddedChannel()
        try self.client.pipeline.syncOperations.addHandlers([clientHandler, self.clientRecorder])
        try self.server.pipeline.syncOperations.addHandlers([serverHandler, self.serverRecorder])
        let address = try SocketAddress(ipAddress: "127.0.0.1", port: 4433)
        try self.server.connect(to: address).wait()
        try self.client.connect(to: address).wait()
    }

    /// Moves bytes both ways until neither side has anything to send. Returns the bytes moved.
    @discardableResult
    func pump() throws -> Int {
        var moved = 0
        var progress = true
        while progress {
            progress = false
            while let data = try self.client.readOutbound(as: ByteBuffer.self) {
                moved += data.readableBytes
                _ = try? self.server.writeInbound(data)
                progress = true
            }
            while let data = try self.server.readOutbound(as: ByteBuffer.self) {
                moved += data.readableBytes
                _ = try? self.client.writeInbound(data)
                progress = true
            }
        }
        return moved
    }

    func send(_ text: String, from channel: EmbeddedChannel) throws {
        channel.writeAndFlush(ByteBuffer(string: text), promise: nil)
    }
}
