import Foundation
import GatewayAccess
import GatewayAudit
import NIOCore
import NIOHTTP1
import Synchronization
import Testing

extension GatewayIntegration {
    /// `kill -9` under load, on a real `gatewayd` process: every request the gateway acknowledged has its decision
    /// record, and the torn tail the kill may leave is set aside when the log is opened again.
    @Suite("Crash durability")
    struct CrashDurability {
        @Test("After kill -9 under load, no acknowledged request lacks its record", .timeLimit(.minutes(1)))
        func killNineLosesNoAcknowledgedRecord() async throws {
            // `swift test` builds every product, gatewayd included.
            let binary = repositoryRoot.appendingPathComponent(".build/debug/gatewayd").path
            try #require(FileManager.default.isExecutableFile(atPath: binary), "needs \(binary): run swift build")
            let pki = try CoreTestPKI.shared()
            let vendor = try await FakeVendor.start(certificate: pki.vendor, pki: pki, group: GatewayHarness.group)
            defer { Task { await vendor.stop() } }
            let (directory, key) = try GatewayHarness.prepareDirectory(name: "gateway-crash", user: "crash-test", pki: pki)
            defer { try? FileManager.default.removeItem(at: directory) }
            try String("""
                listen: {address: 127.0.0.1, port: 0, tls: {certificate: listener.pem, key: listener.key}}
                admin: {address: 127.0.0.1, port: 0}
                providers:
                  - name: openai
                    base_url: https://127.0.0.1:\(vendor.port)
                    paths: [/v1/chat/completions]
                    credential: {header: Authorization, value: "\(VendorKeys.openAI)"}
                    ca_file: vendor-ca.pem
                  - name: anthropic
                    base_url: https://127.0.0.1:\(vendor.port)
                    paths: [/v1/messages]
                    credential: {header: x-api-key, value: "\(VendorKeys.anthropic)"}
                    ca_file: vendor-ca.pem
                rules: {directory: \(repositoryRoot.appendingPathComponent("rules").path)}
                policy: {file: \(repositoryRoot.appendingPathComponent("policy.yaml").path)}
                keys: {file: var/keys.json}
                audit: {directory: var/audit}
                """).write(to: directory.appendingPathComponent("gateway.yaml"), atomically: true, encoding: .utf8)

            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = ["--config", directory.appendingPathComponent("gateway.yaml").path]
            let output = Pipe()
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            try process.run()
            defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
            let port = try Self.listenerPort(from: output)

            let client = TestClient(port: port, tls: try pki.listenerClientContext(), group: GatewayHarness.group, gatewayKey: key.text)
            let load = LoadState()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for worker in 0..<16 {
                    group.addTask {
                        var sequence = 0
                        while !load.stopped.load(ordering: .acquiring) {
                            sequence += 1
                            let content = sequence % 3 == 0 ? "key AKIAL2YY5HLGNUZLUMHX" : "hello \(worker)-\(sequence)"
                            let request = TestRequest.json(
                                "/v1/chat/completions", #"{"model":"gpt-4o","messages":[{"role":"user","content":"\#(content)"}]}"#
                            )
                            guard let response = try? await client.send(request, timeout: .seconds(5)) else { continue }
                            if let id = response.requestID, [200, 403].contains(response.status.code) {
                                load.acknowledged.withLock { $0.append(id) }
                            }
                        }
                    }
                }
                try await Task.sleep(for: .milliseconds(1500))
                kill(process.processIdentifier, SIGKILL)  // mid-load: requests and appends are in flight
                load.stopped.store(true, ordering: .releasing)
                try await group.waitForAll()
            }
            process.waitUntilExit()
            let ids = load.acknowledged.withLock { $0 }
            #expect(ids.count > 20, "the load did not get going (\(ids.count) acknowledged)")

            // Opening the log again repairs a torn tail; then every acknowledged request must be there.
            let location = AuditLocation(directory: directory.appendingPathComponent("var/audit").path)
            let log = try await AuditLog.open(AuditLogConfiguration(location: location))
            try await log.close()
            let recorded = Set(AuditReader.views(location: location).map(\.record.requestID))
            let missing = ids.filter { !recorded.contains($0) }
            #expect(missing.isEmpty, "\(missing.count) of \(ids.count) acknowledged requests have no record")
            let auditKey = try #require(try GatewayAudit.KeyFile.load(path: location.keyFile))
            let report = AuditVerifier(directory: location.directory, key: auditKey.bytes).verify()
            #expect(report.ok, "\(String(describing: report.failure))")
        }

        /// Reads gatewayd's "ready on https://127.0.0.1:PORT" line.
        static func listenerPort(from pipe: Pipe) throws -> Int {
            var text = ""
            let deadline = Date().addingTimeInterval(20)
            while Date() < deadline {
                let data = pipe.fileHandleForReading.availableData
                if data.isEmpty { break }
                text += String(decoding: data, as: UTF8.self)
                if let range = text.range(of: #"ready on https://127\.0\.0\.1:(\d+)"#, options: .regularExpression) {
                    let digits = text[range].split(separator: ":").last.map(String.init) ?? ""
                    if let port = Int(digits) { return port }
                }
            }
            throw CrashTestError.noReadyLine(text)
        }

        enum CrashTestError: Error { case noReadyLine(String) }

        /// Shared by the load tasks: the ids of acknowledged requests, and the stop flag.
        final class LoadState: Sendable {
            let acknowledged = Mutex<[String]>([])
            let stopped = Atomic<Bool>(false)
        }
    }
}
