// TLS handler benchmark (bench/tls-bench): handshakes per second and bulk throughput through TLSHandler on loopback.
//
//   gateway-bench-tls certs --dir D                  write a development CA + EC P-256 server certificate into D
//   gateway-bench-tls server --dir D [--port P] [--threads N] [--tickets]
//                                                    our TLS server (full handshakes unless --tickets); prints
//                                                    "LISTENING <port>", then serves until SIGTERM/SIGINT and prints
//                                                    its totals ("handshakes", "bytes", "cpu seconds") to stdout
//   gateway-bench-tls server --http --body FILE ...  as server, but answers every HTTP/1.1 request with FILE's bytes
//                                                    as a JSON response (NIOHTTP1 + TLSHandler; see
//                                                    FixedResponseServer.swift)
//   gateway-bench-tls bulk --dir D --port P [--bytes N] [--chunk N]
//                                                    our TLS client streams N bytes to the server over one connection
//                                                    and closes with close_notify; prints "BULK <bytes> <seconds> <MB/s>"
//   gateway-bench-tls handshakes --dir D --port P [--seconds S] [--concurrency C]
//                                                    our TLS client: full handshakes in a loop (C at a time);
//                                                    prints "HANDSHAKES <count> <seconds> <per second>"
import Foundation
import GatewayTLS
import NIOCore
import NIOPosix
import NIOTLS
import Synchronization

// MARK: - Arguments

let arguments = Array(CommandLine.arguments.dropFirst())
let command = arguments.first ?? "help"

func option(_ name: String) -> String? {
    guard let index = arguments.firstIndex(of: "--\(name)"), index + 1 < arguments.count else { return nil }
    return arguments[index + 1]
}

func flag(_ name: String) -> Bool { arguments.contains("--\(name)") }

func intOption(_ name: String, _ fallback: Int) -> Int {
    guard let text = option(name) else { return fallback }
    // Accepts 1048576, 1Mi, 1Gi.
    let units: [(String, Int)] = [("Ki", 1 << 10), ("Mi", 1 << 20), ("Gi", 1 << 30)]
    for (suffix, scale) in units where text.hasSuffix(suffix) {
        if let value = Int(text.dropLast(2)) { return value * scale }
    }
    guard let value = Int(text) else { fail("--\(name) wants a number, got \(text)") }
    return value
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("gateway-bench-tls: \(message)\n".utf8))
    exit(2)
}

func emit(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))  // unbuffered: the script reads it live
}

let directory = option("dir") ?? "."

func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
    return seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

func clientContext() throws -> TLSContext {
    try TLSContext.client(ClientTLSConfiguration(trustRoots: .certificates(.file("\(directory)/ca.pem"))))
}

// MARK: - Server

/// Counts handshakes and plaintext bytes over all connections; discards the data.
final class Totals: Sendable {
    let handshakes = Atomic<Int>(0)
    let bytes = Atomic<Int>(0)
    let failures = Atomic<Int>(0)
    let drops = Atomic<Int>(0)
    let firstFailure = Mutex<String?>(nil)
}

final class SinkHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let totals: Totals
    init(totals: Totals) { self.totals = totals }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.totals.bytes.add(self.unwrapInboundIn(data).readableBytes, ordering: .relaxed)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handshakeCompleted = event as? TLSUserEvent {
            self.totals.handshakes.add(1, ordering: .relaxed)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // s_time drops the TCP connection right after the handshake, without close_notify (an unclean shutdown) or
        // with a reset: both are expected here and counted apart from real failures.
        if let error = error as? TLSError, error == .uncleanShutdown {
            self.totals.drops.add(1, ordering: .relaxed)
        } else if let error = error as? IOError, error.errnoCode == ECONNRESET {
            self.totals.drops.add(1, ordering: .relaxed)
        } else {
            self.totals.failures.add(1, ordering: .relaxed)
            self.totals.firstFailure.withLock { if $0 == nil { $0 = String(describing: error) } }
        }
        context.close(promise: nil)
    }
}

/// The body `server --http` answers with (`--body FILE`).
func fixedResponseBody() -> ByteBuffer {
    guard let path = option("body"), let bytes = FileManager.default.contents(atPath: path) else {
        fail("--http needs --body FILE")
    }
    return ByteBuffer(bytes: bytes)
}

func runServer() throws -> Never {
    let threads = intOption("threads", 1)
    let resumption: SessionResumption = flag("tickets") ? .tickets(rotationIntervalSeconds: 3600) : .disabled
    let context = try TLSContext.server(
        ServerTLSConfiguration(
            certificateChain: .file("\(directory)/server.pem"), privateKey: .file("\(directory)/server.key"),
            sessionResumption: resumption
        )
    )
    let totals = Totals()
    let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
    let plain = flag("plain")
    let httpBody: ByteBuffer? = flag("http") ? fixedResponseBody() : nil
    let channel = try ServerBootstrap(group: group)
        .serverChannelOption(.backlog, value: 1024)
        .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
        .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
        .childChannelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                // --plain: the same NIO path without TLS, to measure what loopback TCP alone costs.
                if !plain { try channel.pipeline.syncOperations.addHandler(TLSHandler(serverContext: context)) }
                if let httpBody {
                    try addFixedResponseHandlers(to: channel.pipeline.syncOperations, body: httpBody)
                } else {
                    try channel.pipeline.syncOperations.addHandler(SinkHandler(totals: totals))
                }
            }
        }
        .bind(host: "127.0.0.1", port: intOption("port", 0))
        .wait()
    emit("LISTENING \(channel.localAddress?.port ?? 0)")
    let started = (wall: ContinuousClock.now, cpu: cpuSeconds())
    let stop = DispatchSemaphore(value: 0)
    var sources: [DispatchSourceSignal] = []
    for signalNumber in [SIGTERM, SIGINT] {
        signal(signalNumber, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
        source.setEventHandler { stop.signal() }
        source.resume()
        sources.append(source)
    }
    stop.wait()
    let wall = ContinuousClock.now - started.wall
    emit("handshakes \(totals.handshakes.load(ordering: .relaxed))")
    emit("bytes \(totals.bytes.load(ordering: .relaxed))")
    emit("failures \(totals.failures.load(ordering: .relaxed))")
    emit("dropped by client \(totals.drops.load(ordering: .relaxed))")
    if let first = totals.firstFailure.withLock({ $0 }) { emit("first failure \(first)") }
    emit("cpu seconds \(String(format: "%.3f", cpuSeconds() - started.cpu))")
    emit("wall seconds \(String(format: "%.3f", Double(wall.components.seconds) + Double(wall.components.attoseconds) / 1e18))")
    exit(0)
}

// MARK: - Bulk client

/// Streams `total` bytes in `chunk`-sized writes as fast as the channel takes them, then closes (close_notify, and
/// waits for the server's, which proves the server decrypted everything).
final class StreamHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let payload: ByteBuffer
    private var remaining: Int
    private let finished: EventLoopPromise<Double>
    private var started: ContinuousClock.Instant? = nil
    private var sending = false
    private var closing = false

    private let plain: Bool
    private var lastWrite: EventLoopFuture<Void>?

    init(total: Int, chunk: Int, plain: Bool, finished: EventLoopPromise<Double>) {
        self.plain = plain
        var buffer = ByteBufferAllocator().buffer(capacity: chunk)
        buffer.writeRepeatingByte(0x61, count: chunk)
        self.payload = buffer
        self.remaining = total
        self.finished = finished
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handshakeCompleted = event as? TLSUserEvent {
            self.started = .now
            self.send(context: context)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelActive(context: ChannelHandlerContext) {
        context.fireChannelActive()
        guard self.plain else { return }
        self.started = .now
        self.send(context: context)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { self.send(context: context) }
        context.fireChannelWritabilityChanged()
    }

    private func send(context: ChannelHandlerContext) {
        guard !self.sending, !self.closing else { return }
        self.sending = true
        defer { self.sending = false }
        while self.remaining > 0 && context.channel.isWritable {
            let size = min(self.remaining, self.payload.readableBytes)
            // Flush every chunk: TLSHandler encrypts on flush, and only then does the ciphertext count against the
            // channel's write buffer (and so its writability).
            self.lastWrite = context.writeAndFlush(self.wrapOutboundOut(self.payload.getSlice(at: 0, length: size)!))
            self.remaining -= size
        }
        if self.remaining == 0 {
            self.closing = true
            let started = self.started!
            let finished = self.finished
            // TLS: close sends close_notify and waits for the server's, which proves it decrypted everything.
            // Plain: close only once the last byte was written (a close drops writes still queued).
            let written = (self.plain ? self.lastWrite : nil) ?? context.eventLoop.makeSucceededVoidFuture()
            written.assumeIsolated().flatMap { context.close() }.whenComplete { result in
                let elapsed = ContinuousClock.now - started
                switch result {
                case .success:
                    finished.succeed(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
                case .failure(let error):
                    finished.fail(error)
                }
            }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        self.finished.fail(error)
        context.close(promise: nil)
    }
}

func runBulk() throws {
    let total = intOption("bytes", 1 << 30)
    let chunk = intOption("chunk", 16_384)
    let port = intOption("port", 0)
    let plain = flag("plain")
    let context = try clientContext()
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let finished = group.next().makePromise(of: Double.self)
    let channel = try ClientBootstrap(group: group)
        .channelOption(.socketOption(.tcp_nodelay), value: 1)
        .channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                if !plain {
                    try channel.pipeline.syncOperations.addHandler(TLSHandler(clientContext: context, serverHostname: "localhost"))
                }
                try channel.pipeline.syncOperations.addHandler(
                    StreamHandler(total: total, chunk: chunk, plain: plain, finished: finished)
                )
            }
        }
        .connect(host: "127.0.0.1", port: port)
        .wait()
    let cpuBefore = cpuSeconds()
    let seconds = try finished.futureResult.wait()
    let cpu = cpuSeconds() - cpuBefore
    try? channel.closeFuture.wait()
    emit("BULK \(total) \(String(format: "%.3f", seconds)) \(String(format: "%.1f", Double(total) / seconds / 1e6)) client-cpu \(String(format: "%.3f", cpu))")
    try group.syncShutdownGracefully()
}

// MARK: - Handshake client

/// One connection: handshake, then close; reports through `done`.
final class HandshakeOnce: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    private let done: EventLoopPromise<Void>
    private var reported = false
    init(done: EventLoopPromise<Void>) { self.done = done }

    private func report(_ error: Error?) {
        guard !self.reported else { return }
        self.reported = true
        if let error { self.done.fail(error) } else { self.done.succeed() }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handshakeCompleted = event as? TLSUserEvent {
            self.report(nil)
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        self.report(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.report(ChannelError.ioOnClosedChannel)
    }
}

func runHandshakes() throws {
    let port = intOption("port", 0)
    let seconds = intOption("seconds", 5)
    let concurrency = intOption("concurrency", 1)
    let context = try clientContext()
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let loop = group.next()
    let completed = Atomic<Int>(0)
    let failed = Atomic<Int>(0)
    let deadline = NIODeadline.now() + .seconds(Int64(seconds))
    let started = ContinuousClock.now

    @Sendable func connectOnce() -> EventLoopFuture<Void> {
        let done = loop.makePromise(of: Void.self)
        return ClientBootstrap(group: loop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        TLSHandler(clientContext: context, serverHostname: "localhost", shutdownTimeout: .milliseconds(200))
                    )
                    try channel.pipeline.syncOperations.addHandler(HandshakeOnce(done: done))
                }
            }
            .connect(host: "127.0.0.1", port: port)
            .flatMap { _ in done.futureResult }  // the close (close_notify exchange) carries on in the background
    }

    @Sendable func loopUntilDeadline() -> EventLoopFuture<Void> {
        if NIODeadline.now() >= deadline { return loop.makeSucceededVoidFuture() }
        return connectOnce().flatMapError { _ in
            failed.add(1, ordering: .relaxed)
            return loop.makeSucceededVoidFuture()
        }.flatMap {
            completed.add(1, ordering: .relaxed)
            return loopUntilDeadline()
        }
    }

    let workers = (0..<concurrency).map { _ in loop.flatSubmit { loopUntilDeadline() } }
    try EventLoopFuture.andAllSucceed(workers, on: loop).wait()
    let elapsed = ContinuousClock.now - started
    let wall = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    let ok = completed.load(ordering: .relaxed) - failed.load(ordering: .relaxed)
    emit("HANDSHAKES \(ok) \(String(format: "%.3f", wall)) \(String(format: "%.1f", Double(ok) / wall)) failed \(failed.load(ordering: .relaxed))")
    try group.syncShutdownGracefully()
}

// MARK: - Main

do {
    switch command {
    case "certs":
        try DevelopmentCertificates.create(in: directory, overwrite: true)
        emit("wrote \(directory)/ca.pem, server.pem, server.key")
    case "server":
        try runServer()
    case "bulk":
        try runBulk()
    case "handshakes":
        try runHandshakes()
    default:
        fail("usage: gateway-bench-tls certs|server|bulk|handshakes --dir D [--port P] ... (see the header of main.swift)")
    }
} catch {
    fail("\(error)")
}
