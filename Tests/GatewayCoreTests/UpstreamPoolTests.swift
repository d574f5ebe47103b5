import GatewayConfig
import GatewayTLS
import NIOCore
import NIOPosix
import Testing
@testable import GatewayCore

/// The pool's bound holds across event loops, and no request waits behind a connection idling on another loop.
@Suite("Upstream pool across event loops")
struct UpstreamPoolTests {
    private struct Fixture {
        let group: MultiThreadedEventLoopGroup
        let loops: (a: any EventLoop, b: any EventLoop)
        let vendor: FakeVendor
        let pool: UpstreamPool
    }

    private func withFixture(_ body: (Fixture) async throws -> Void) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let pki = try CoreTestPKI.shared()
        let vendor = try await FakeVendor.start(certificate: pki.vendor, pki: pki, group: group)
        let provider = ProviderSettings(
            name: "openai", baseURL: UpstreamURL(scheme: "https", host: "127.0.0.1", port: vendor.port, basePath: ""),
            pathPrefixes: ["/v1/chat/completions"], credential: ProviderCredential(header: "x-api-key", value: "k"),
            apiShape: .openai, pool: ConnectionPoolSettings(maxConnections: 1), timeouts: UpstreamTimeouts(firstByteSeconds: 5)
        )
        let tls = try TLSContext.client(
            ClientTLSConfiguration(trustRoots: .certificates(.pem(pki.vendorAuthority.issued.certificatePEM)))
        )
        var loops = group.makeIterator()
        let fixture = Fixture(
            group: group, loops: (loops.next()!, loops.next()!), vendor: vendor,
            pool: UpstreamPool(provider: provider, tls: tls)
        )
        let outcome: Result<Void, any Error>
        do { outcome = .success(try await body(fixture)) } catch { outcome = .failure(error) }
        fixture.pool.shutdown()
        await vendor.stop()
        try await group.shutdownGracefully()
        try outcome.get()
    }

    /// Asks the pool for a connection on `loop`; the future completes when one is handed over.
    private func acquire(_ pool: UpstreamPool, on loop: any EventLoop) -> EventLoopFuture<UpstreamConnection> {
        let granted = loop.makePromise(of: UpstreamConnection.self)
        loop.execute {
            pool.acquire(on: loop) { grant in
                switch grant {
                case .connection(let connection): granted.succeed(connection)
                case .failed(let error): granted.fail(error)
                }
            }
        }
        return granted.futureResult
    }

    /// The connection a pending acquisition gets, or a failure after 20 s (a pool that strands a waiter fails the test
    /// instead of hanging it).
    private func granted(_ future: EventLoopFuture<UpstreamConnection>) async throws -> UpstreamConnection {
        try await withDeadline(.seconds(20), "the pool's hand-over") { try await future.get() }
    }

    private func finish(_ pool: UpstreamPool, _ connection: UpstreamConnection) async throws {
        try await connection.eventLoop.submit { pool.finished(connection, reusable: true) }.get()
    }

    @Test("A request on loop B takes the slot of a connection idling on loop A")
    func idleConnectionOnAnotherLoopGivesUpItsSlot() async throws {
        try await self.withFixture { fixture in
            let first = try await self.granted(self.acquire(fixture.pool, on: fixture.loops.a))
            #expect(first.eventLoop === fixture.loops.a)
            try await self.finish(fixture.pool, first)  // idle on A; the bound (1) is reached

            let second = try await self.granted(self.acquire(fixture.pool, on: fixture.loops.b))
            #expect(second.eventLoop === fixture.loops.b, "the connection must live on the requesting loop")
            try await first.channel.closeFuture.get()  // A's idle connection was closed to free the slot
            #expect(second.channel.isActive)
            #expect(fixture.vendor.acceptedConnections == 2)
        }
    }

    @Test("A waiter on loop A gets a new connection when the only one, on loop B, finishes")
    func waiterOnAnotherLoopGetsTheSlot() async throws {
        try await self.withFixture { fixture in
            let busy = try await self.granted(self.acquire(fixture.pool, on: fixture.loops.b))
            let waiting = self.acquire(fixture.pool, on: fixture.loops.a)
            try await Task.sleep(for: .milliseconds(200))
            #expect(fixture.vendor.acceptedConnections == 1, "a second connection was opened past the bound of 1")

            try await self.finish(fixture.pool, busy)  // B has no waiter; A's waiter takes the slot
            let handedOver = try await self.granted(waiting)
            #expect(handedOver.eventLoop === fixture.loops.a)
            try await busy.channel.closeFuture.get()
            #expect(handedOver.channel.isActive)
            #expect(fixture.vendor.acceptedConnections == 2)
        }
    }

    @Test("A waiter on the same loop is handed the finished connection itself")
    func waiterOnTheSameLoopReusesTheConnection() async throws {
        try await self.withFixture { fixture in
            let busy = try await self.granted(self.acquire(fixture.pool, on: fixture.loops.a))
            let waiting = self.acquire(fixture.pool, on: fixture.loops.a)
            try await self.finish(fixture.pool, busy)
            let handedOver = try await self.granted(waiting)
            #expect(handedOver === busy)
            #expect(busy.channel.isActive)
            #expect(fixture.vendor.acceptedConnections == 1)
        }
    }
}
