import Foundation
import GatewayTLS
import NIOCore
import NIOPosix
import NIOTLS
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Helpers for the loopback interop tests: the `openssl` command-line tool as the other TLS stack, our handlers on
// real sockets through NIOPosix, and a thread-safe log of what each connection saw.

/// The `openssl` binary on PATH, or nil (the interop suite is then skipped).
enum OpenSSLTool {
    static let path: String? = {
        let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        for directory in directories {
            let candidate = "\(directory)/openssl"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }()
}

/// A temporary directory with PEM files in it, removed by `remove()`.
struct PEMDirectory {
    let path: String

    init() throws {
        self.path = NSTemporaryDirectory() + "gateway-tls-interop-\(UUID().uuidString.prefix(12))"
        try FileManager.default.createDirectory(
            atPath: self.path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700]
        )
    }

    /// Writes `text` as `name` and returns its path.
    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        let file = "\(self.path)/\(name)"
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }

    func file(_ name: String) -> String { "\(self.path)/\(name)" }

    func remove() { try? FileManager.default.removeItem(atPath: self.path) }
}

/// One run of the `openssl` tool: stdout and stderr merged and collected; bounded waits; killed when abandoned.
final class ToolRun: @unchecked Sendable {
    private let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    private let collected = Collected()

    private final class Collected: Sendable {
        let state = Mutex<(data: Data, finished: Bool)>((Data(), false))
        func withLock<R>(_ body: (inout (data: Data, finished: Bool)) -> R) -> R { self.state.withLock { body(&$0) } }
    }

    init(_ arguments: [String], directory: String) throws {
        signal(SIGPIPE, SIG_IGN)  // a tool that died early must not take the test process with it
        guard let tool = OpenSSLTool.path else { throw ToolError.missing }
        self.process.executableURL = URL(fileURLWithPath: tool)
        self.process.arguments = arguments
        self.process.currentDirectoryURL = URL(fileURLWithPath: directory)
        self.process.standardInput = self.input
        self.process.standardOutput = self.output
        self.process.standardError = self.output
        try self.process.run()
        let reader = self.output.fileHandleForReading
        Thread.detachNewThread { [collected] in
            while true {
                let chunk = reader.availableData
                if chunk.isEmpty { break }
                collected.withLock { $0.data.append(chunk) }
            }
            collected.withLock { $0.finished = true }
        }
    }

    enum ToolError: Error { case missing }

    /// Everything the tool printed so far.
    var text: String { self.collected.withLock { String(decoding: $0.data, as: UTF8.self) } }

    func send(_ text: String, closeInput: Bool = true) {
        try? self.input.fileHandleForWriting.write(contentsOf: Data(text.utf8))
        if closeInput { try? self.input.fileHandleForWriting.close() }
    }

    /// Waits until the output contains `needle`; false on timeout or when the tool ended without printing it.
    func waitForOutput(containing needle: String, timeout: Duration = .seconds(10)) -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let (text, finished) = self.collected.withLock { (String(decoding: $0.data, as: UTF8.self), $0.finished) }
            if text.contains(needle) { return true }
            if finished { return false }
            Thread.sleep(forTimeInterval: 0.01)
        }
        return false
    }

    /// Waits for the tool to exit and its output to be drained; returns its exit status, or nil after killing it
    /// on timeout.
    @discardableResult
    func waitForExit(timeout: Duration = .seconds(10)) -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if !self.process.isRunning && self.collected.withLock({ $0.finished }) {
                return self.process.terminationStatus
            }
            Thread.sleep(forTimeInterval: 0.01)
        }
        self.stop()
        return nil
    }

    /// Ends the tool if it is still running.
    func stop() {
        try? self.input.fileHandleForWriting.close()
        guard self.process.isRunning else { return }
        self.process.terminate()
        let deadline = ContinuousClock.now + .seconds(2)
        while self.process.isRunning && ContinuousClock.now < deadline { Thread.sleep(forTimeInterval: 0.01) }
        if self.process.isRunning { _ = kill(self.process.processIdentifier, SIGKILL) }
    }

    deinit { self.stop() }
}

/// What one side of a loopback test saw, across all its connections; readable from the test thread.
final class ConnectionLog: Sendable {
    struct Snapshot {
        var handshakes: [TLSHandshakeDetails] = []
        var tlsErrors: [TLSError] = []
        var otherErrors: [String] = []
        var received = ""
        var closedConnections = 0
        var cleanShutdowns = 0
    }

    private let state = Mutex(Snapshot())

    var snapshot: Snapshot { self.state.withLock { $0 } }

    func update(_ body: (inout Snapshot) -> Void) { self.state.withLock { body(&$0) } }

    /// Polls until `condition` holds; false on timeout.
    func wait(timeout: Duration = .seconds(10), until condition: (Snapshot) -> Bool) -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if condition(self.snapshot) { return true }
            Thread.sleep(forTimeInterval: 0.01)
        }
        return condition(self.snapshot)
    }
}

/// Sits above a `TLSHandler`: logs events, errors and plaintext. As a server it echoes each read back and, once a
/// newline has arrived, closes (sending close_notify), which is what ends an `s_client -ign_eof` run.
final class LoggingHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let log: ConnectionLog
    private let echo: Bool

    init(log: ConnectionLog, echo: Bool) {
        self.log = log
        self.echo = echo
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = self.unwrapInboundIn(data)
        let text = String(buffer: buffer)
        self.log.update { $0.received += text }
        if self.echo {
            context.writeAndFlush(self.wrapOutboundOut(buffer), promise: nil)
            if text.contains("\n") { context.close(promise: nil) }
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let details = event as? TLSHandshakeDetails {
            self.log.update { $0.handshakes.append(details) }
        } else if let event = event as? TLSUserEvent, event == .shutdownCompleted {
            self.log.update { $0.cleanShutdowns += 1 }
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if let error = error as? TLSError {
            self.log.update { $0.tlsErrors.append(error) }
        } else {
            self.log.update { $0.otherErrors.append(String(describing: error)) }
        }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.log.update { $0.closedConnections += 1 }
        context.fireChannelInactive()
    }
}

/// Our TLS server with an echo handler on 127.0.0.1 and a port the kernel chose.
final class LoopbackTLSServer {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let log = ConnectionLog()
    private(set) var channel: Channel? = nil

    init(context: TLSContext) throws {
        let log = self.log
        do {
            self.channel = try ServerBootstrap(group: self.group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(TLSHandler(serverContext: context))
                        try channel.pipeline.syncOperations.addHandler(LoggingHandler(log: log, echo: true))
                    }
                }
                .bind(host: "127.0.0.1", port: 0)
                .wait()
        } catch {
            try? self.group.syncShutdownGracefully()
            throw error
        }
    }

    var port: Int { self.channel?.localAddress?.port ?? 0 }

    func stop() {
        try? self.channel?.close().wait()
        try? self.group.syncShutdownGracefully()
    }
}

/// Connects our TLS client to 127.0.0.1:`port`, sends `request` (before the handshake: it is held back until the
/// server is verified) and waits until the connection closes or `timeout` passes.
func runLoopbackClient(
    context: TLSContext, serverHostname: String = "localhost", port: Int, request: String,
    timeout: Duration = .seconds(10)
) throws -> ConnectionLog.Snapshot {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    defer { try? group.syncShutdownGracefully() }
    let log = ConnectionLog()
    let channel = try ClientBootstrap(group: group)
        .connectTimeout(.seconds(5))
        .channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(
                    TLSHandler(clientContext: context, serverHostname: serverHostname)
                )
                try channel.pipeline.syncOperations.addHandler(LoggingHandler(log: log, echo: false))
            }
        }
        .connect(host: "127.0.0.1", port: port)
        .wait()
    channel.writeAndFlush(ByteBuffer(string: request), promise: nil)
    if !log.wait(timeout: timeout, until: { $0.closedConnections > 0 }) {
        try? channel.close().wait()
    }
    return log.snapshot
}

extension PEMDirectory {
    /// Writes the test PKI's CA, server certificate and key as `ca.pem`, `server.pem`, `server.key`.
    func writeServerFiles(_ pki: TestPKI) throws {
        try self.write("ca.pem", pki.authority.issued.certificatePEM)
        try self.write("server.pem", pki.server.certificatePEM)
        try self.write("server.key", pki.server.privateKeyPEM)
    }
}
