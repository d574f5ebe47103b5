import Foundation
import GatewayConfig
import NIOCore
import NIOEmbedded
import NIOHTTP1
@testable import GatewayCore

/// The whole caller-side pipeline (HTTP decoder and encoder, `ProxyHandler`, the real phases and filters) on an
/// `EmbeddedChannel`, with the vendor played by the test on `EmbeddedChannel`s of its own: no sockets, no TLS, no
/// threads. Records are off (the decision log writes on its own thread); `AuditTests` cover them over sockets.
///
/// The test writes the caller's bytes, runs the loop, reads what the vendor was sent, answers as the vendor, and
/// reads what the caller got.
final class EmbeddedGateway {
    let loop = EmbeddedEventLoop()
    let caller: EmbeddedChannel
    let vendor: EmbeddedVendor
    let runtime: GatewayRuntime
    /// A gateway key of role `engineer`.
    let gatewayKey: String
    private let directory: URL

    /// - Parameter extraFilters: filters after the built-in ones (the response-phase tests add their own).
    init(extraFilters: [any GatewayFilter] = [], maxBodyBytes: Int = 1 << 20) async throws {
        let (directory, key) = try GatewayHarness.prepareDirectory(
            name: "gateway-embedded", user: "embedded-test", pki: try CoreTestPKI.shared()
        )
        self.directory = directory
        self.gatewayKey = key.text
        let yaml = """
            listen:
              address: 127.0.0.1
              port: 0
              tls: {certificate: listener.pem, key: listener.key, session_tickets: false}
            providers:
              - name: openai
                base_url: https://127.0.0.1:9
                paths: [/v1/chat/completions, /v1/models]
                credential: {header: Authorization, value: "\(VendorKeys.openAI)"}
                ca_file: vendor-ca.pem
              - name: anthropic
                base_url: https://127.0.0.1:9
                paths: [/v1/messages]
                credential: {header: x-api-key, value: "\(VendorKeys.anthropic)"}
                ca_file: vendor-ca.pem
            limits: {max_body_bytes: \(maxBodyBytes)}
            rules: {directory: \(repositoryRoot.appendingPathComponent("rules").path)}
            policy: {file: \(repositoryRoot.appendingPathComponent("policy.yaml").path)}
            keys: {file: var/keys.json}
            audit: {enabled: false, directory: var/audit}
            """
        try yaml.write(to: directory.appendingPathComponent("gateway.yaml"), atomically: true, encoding: .utf8)
        let configuration = try ConfigLoader.load(
            contents: yaml, path: directory.appendingPathComponent("gateway.yaml").path, environment: [:]
        )
        self.runtime = try await GatewayRuntime.build(configuration: configuration, extraFilters: extraFilters)
        self.vendor = EmbeddedVendor(loop: self.loop)
        let settings = ProxySettings(
            pipeline: self.runtime.pipeline, upstreams: ["openai": self.vendor, "anthropic": self.vendor],
            maxBodyBytes: maxBodyBytes, registry: ConnectionRegistry(), metrics: self.runtime.metrics,
            offLoopInspectionBytes: .max, inspectionPool: nil, bodyBudget: BodyBudget(limit: 1 << 30)
        )
        self.caller = EmbeddedChannel(loop: self.loop)
        let sync = self.caller.pipeline.syncOperations
        try sync.addHandler(HTTPResponseEncoder())
        try sync.addHandler(ByteToMessageHandler(HTTPRequestDecoder()))
        try sync.addHandler(ProxyHandler(settings: settings))
        try await self.caller.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 8443)).get()
    }

    deinit { try? FileManager.default.removeItem(at: self.directory) }

    /// The caller sends `raw` bytes; the loop then runs what they started.
    func callerSends(_ raw: String) throws {
        try self.caller.writeInbound(ByteBuffer(string: raw))
        self.loop.run()
    }

    /// A JSON POST with the gateway key, as an SDK sends it.
    static func post(_ path: String, _ json: String, key: String?, extraHeaders: String = "") -> String {
        let authorization = key.map { "Authorization: Bearer \($0)\r\n" } ?? ""
        return "POST \(path) HTTP/1.1\r\nHost: gw\r\n\(authorization)Content-Type: application/json\r\n"
            + "Content-Length: \(json.utf8.count)\r\n\(extraHeaders)\r\n\(json)"
    }

    /// Everything written to the caller so far.
    func callerReceived() throws -> String {
        self.loop.run()
        var text = ""
        while let chunk = try self.caller.readOutbound(as: ByteBuffer.self) { text += String(buffer: chunk) }
        return text
    }
}

/// The vendor's side: each connection the gateway takes is an `EmbeddedChannel` ending in the gateway's own
/// `UpstreamClientHandler`, on the caller's loop. The test reads the requests it was sent and writes its answers.
final class EmbeddedVendor: UpstreamSource, @unchecked Sendable {
    let loop: EmbeddedEventLoop
    /// Every connection handed out, in order.
    private(set) var connections: [EmbeddedChannel] = []
    /// Connections given back unused.
    private(set) var returned = 0

    init(loop: EmbeddedEventLoop) { self.loop = loop }

    func acquire(on loop: any EventLoop, _ deliver: @escaping UpstreamPool.Waiter) {
        let channel = EmbeddedChannel(loop: self.loop)
        do {
            let handler = UpstreamClientHandler(providerName: "embedded-vendor", idleTimeout: .seconds(600))
            try channel.pipeline.syncOperations.addHTTPClientHandlers()
            try channel.pipeline.syncOperations.addHandler(handler)
            try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 443)).wait()
            self.connections.append(channel)
            deliver(.connection(UpstreamConnection(channel: channel, handler: handler)))
        } catch {
            deliver(.failed(GatewayError(.upstreamUnavailable, "embedded vendor: \(error)")))
        }
    }

    func finished(_ connection: UpstreamConnection, reusable: Bool) { self.returned += 1 }

    /// The bytes the gateway wrote on connection `index`.
    func received(on index: Int = 0) throws -> String {
        self.loop.run()
        guard index < self.connections.count else { return "" }
        var text = ""
        while let chunk = try self.connections[index].readOutbound(as: ByteBuffer.self) { text += String(buffer: chunk) }
        return text
    }

    /// The vendor writes `raw` response bytes on connection `index`.
    func answers(_ raw: String, on index: Int = 0) throws {
        try self.connections[index].writeInbound(ByteBuffer(string: raw))
        self.loop.run()
    }

    /// A complete JSON answer.
    static func json(_ body: String) -> String {
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
    }
}
