// fuzz-verify: the input is the content of a decision-log directory, checked by AuditVerifier and read back by
// AuditReader (what `gatewayctl log verify` and `gatewayctl log` do). Layout of an input:
//
//   [%%RESEAL%%\n]            optional first line: re-MAC every line (and HEAD) under the fuzz key, so mutated
//                             lines get past the MAC check and reach the sequence, chain and checkpoint checks
//   <audit-000001.jsonl>      segment 1 (raw bytes)
//   %%SEG%%\n                 a line of its own: the next segment starts (up to 8 segments)
//   <audit-000002.jsonl>
//   %%HEAD%%\n                a line of its own: everything after it is the HEAD file
//   <HEAD>
//
// The files are written into a temporary directory created once and rewritten for every input. The key is fixed
// (`fuzzKey`), so seeds made with it (`FUZZ_VERIFY_MAKE_SEEDS=DIR fuzz-verify`, see fuzz/README.md) verify.
import Dispatch
import Foundation
import GatewayAudit
import GatewayCrypto

/// The fuzz audit key: bytes 0x00…0x1f. Its key file holds `000102…1f`.
let fuzzKey: [UInt8] = (0..<32).map { UInt8($0) }

let workDirectory: String = {
    let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
    let path = base + "/fuzz-verify-\(getpid())"
    try? FileManager.default.removeItem(atPath: path)
    do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
        fatalError("cannot create \(path): \(error)")
    }
    atexit { removeWorkDirectory() }
    return path
}()

func removeWorkDirectory() { try? FileManager.default.removeItem(atPath: workDirectory) }

let resealMarker = Array("%%RESEAL%%\n".utf8)
let segmentMarker = Array("%%SEG%%\n".utf8)
let headMarker = Array("%%HEAD%%\n".utf8)
let maximumSegments = 8

/// Positions where `marker` starts a line of `bytes`.
func lineStarts(of marker: [UInt8], in bytes: ArraySlice<UInt8>) -> [Int] {
    var found: [Int] = []
    var index = bytes.startIndex
    while index + marker.count <= bytes.endIndex {
        if (index == bytes.startIndex || bytes[index - 1] == UInt8(ascii: "\n")),
            bytes[index] == marker[0], bytes[index..<(index + marker.count)].elementsEqual(marker)
        {
            found.append(index)
            index += marker.count
        } else {
            index += 1
        }
    }
    return found
}

/// The input cut into segment contents and an optional HEAD.
func layout(_ input: ArraySlice<UInt8>) -> (segments: [ArraySlice<UInt8>], head: ArraySlice<UInt8>?) {
    var body = input
    var head: ArraySlice<UInt8>?
    if let position = lineStarts(of: headMarker, in: body).first {
        head = body[(position + headMarker.count)...]
        body = body[..<position]
    }
    var segments: [ArraySlice<UInt8>] = []
    var start = body.startIndex
    for position in lineStarts(of: segmentMarker, in: body) where segments.count < maximumSegments - 1 {
        segments.append(body[start..<position])
        start = position + segmentMarker.count
    }
    segments.append(body[start...])
    return (segments, head)
}

/// `line` sealed under `key` the way the log seals: an existing `,"mac":"<64 hex>"}` suffix is dropped, then the
/// object's bytes `C` get `,"mac":"<HMAC(key, C)>"` before their final `}`. Lines that are not `{…}` are kept.
func reseal(_ line: ArraySlice<UInt8>, key: [UInt8]) -> [UInt8] {
    var canonical = Array(line)
    let suffixLength = 8 + 64 + 2
    if canonical.count > suffixLength + 1, canonical.last == UInt8(ascii: "}"),
        canonical[canonical.count - suffixLength..<canonical.count - 66].elementsEqual(",\"mac\":\"".utf8)
    {
        canonical.removeLast(suffixLength)
        canonical.append(UInt8(ascii: "}"))
    }
    guard canonical.first == UInt8(ascii: "{"), canonical.last == UInt8(ascii: "}"), canonical.count >= 2 else {
        return Array(line)
    }
    let mac = Crypto.hmacSHA256(key: key, data: canonical)
    canonical.removeLast()
    canonical.append(contentsOf: ",\"mac\":\"".utf8)
    Crypto.appendHex(mac, to: &canonical)
    canonical.append(contentsOf: "\"}".utf8)
    return canonical
}

func resealAll(_ content: ArraySlice<UInt8>) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(content.count + 128)
    var start = content.startIndex
    for index in content.indices where content[index] == UInt8(ascii: "\n") {
        out.append(contentsOf: reseal(content[start..<index], key: fuzzKey))
        out.append(UInt8(ascii: "\n"))
        start = index + 1
    }
    out.append(contentsOf: reseal(content[start...], key: fuzzKey))
    return out
}

func write(_ bytes: [UInt8], to path: String) {
    guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else { fatalError("cannot write \(path)") }
}

/// `FUZZ_VERIFY_DEBUG=1`: print each input's report (to check seeds: `fuzz-verify corpus/fuzz-verify/*`).
let debug = ProcessInfo.processInfo.environment["FUZZ_VERIFY_DEBUG"] == "1"

/// Files written for the previous input, removed before the next.
nonisolated(unsafe) var previousFiles: [String] = []

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var input = Array(UnsafeBufferPointer(start: data, count: size))[...]
    let resealing = input.starts(with: resealMarker)
    if resealing { input = input.dropFirst(resealMarker.count) }
    let (segments, head) = layout(input)

    let directory = workDirectory
    for file in previousFiles { unlink(directory + "/" + file) }
    previousFiles = []
    for (offset, content) in segments.enumerated() {
        let name = SegmentNames.name(offset + 1)
        write(resealing ? resealAll(content) : Array(content), to: directory + "/" + name)
        previousFiles.append(name)
    }
    if let head {
        write(resealing ? resealAll(head) : Array(head), to: directory + "/" + HeadCheckpoint.fileName)
        previousFiles.append(HeadCheckpoint.fileName)
    }

    let report = AuditVerifier(directory: directory, key: fuzzKey).verify()
    let entries = AuditReader.entries(directory: directory)
    _ = AuditReader.views(entries: entries)
    _ = report.failure?.description
    if debug { print("verify: \(report.segments) segments, \(report.lines) lines, failure: \(report.failure.map { "\($0)" } ?? "none"), notes: \(report.notes)") }
    invariant(report.segments <= segments.count, "verifier counted \(report.segments) segments of \(segments.count)")
    if report.ok {
        // A log that verifies was read completely: every line decoded, so the reader sees exactly those lines.
        invariant(report.segments == segments.count, "ok after \(report.segments) of \(segments.count) segments")
        invariant(entries.count == report.lines, "ok with \(report.lines) lines, but the reader decoded \(entries.count)")
        invariant(report.records <= report.lines && report.checkpoints <= report.lines, "counts exceed lines")
    } else if let failure = report.failure {
        invariant(failure.line >= 0, "negative line number")
    }
    return 0
}

func invariant(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
    if !condition() { fatalError("INVARIANT: \(message())") }
}

// MARK: Seed generation

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> CInt {
    guard let output = ProcessInfo.processInfo.environment["FUZZ_VERIFY_MAKE_SEEDS"], !output.isEmpty else { return 0 }
    let done = DispatchSemaphore(value: 0)
    Task {
        do {
            try await makeSeeds(into: output)
        } catch {
            FileHandle.standardError.write(Data("seed generation failed: \(error)\n".utf8))
            exit(1)
        }
        done.signal()
    }
    done.wait()
    print("seeds written to \(output)")
    exit(0)
}

/// Writes a real log with the library (several segments, records of every decision, outcomes, review events) and
/// turns it into seed inputs in `output`.
func makeSeeds(into output: String) async throws {
    let scratch = workDirectory + "/seed-log"
    try? FileManager.default.removeItem(atPath: scratch)
    try FileManager.default.createDirectory(atPath: scratch + "/keys", withIntermediateDirectories: true)
    try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
    let keyPath = scratch + "/keys/audit.key"
    _ = FileManager.default.createFile(atPath: keyPath, contents: Data((Crypto.hex(fuzzKey) + "\n").utf8),
                                   attributes: [.posixPermissions: 0o600])
    var configuration = AuditLogConfiguration(directory: scratch + "/log", keyFile: keyPath)
    configuration.maxSegmentBytes = 2500
    let log = try await AuditLog.open(configuration)

    let hash = String(repeating: "ab", count: 32)
    let identity = Identity(user: "jo.smith", role: "engineer", keyID: "ZNayHEex2q")
    let email = FindingSummary(ruleID: "email-address", category: "pii", type: "email", location: "messages[0].content",
                               confidence: 0.9, count: 2, fingerprint: "3f9a0c12d4e5a6b7", preview: "j*****@a***.co.uk",
                               action: "redact")
    let token = FindingSummary(ruleID: "github-token", category: "secret", type: "github_token",
                               location: "messages[1].content", confidence: 0.99, fingerprint: "0c12d4e5a6b73f9a",
                               preview: "ghp_****9PH", action: "block")
    let clean = DecisionRecord(requestID: "req_178071f7e4023d8900000001", instance: "gateway-1:8443",
                               clientAddress: "127.0.0.1", identity: identity, provider: "openai", method: "POST",
                               target: "/v1/chat/completions", model: "gpt-4o-mini", decision: .allow, reason: "clean",
                               bytesIn: 2025, bytesForwarded: 2025, inspectMs: 0.071, ruleSetHash: hash, policyHash: hash)
    let redacted = DecisionRecord(requestID: "req_178071f7e4023d8900000002", instance: "gateway-1:8443",
                                  clientAddress: "10.0.0.7", identity: identity, provider: "anthropic", method: "POST",
                                  target: "/v1/messages", model: "claude-sonnet-4-5", decision: .redact,
                                  reason: "redacted", findings: [email], bytesIn: 812, bytesForwarded: 790,
                                  inspectMs: 0.2, ruleSetHash: hash, policyHash: hash)
    let blocked = DecisionRecord(requestID: "req_178071f7e4023d8900000003", instance: "gateway-1:8443",
                                 clientAddress: "::1", identity: identity, provider: "openai", method: "POST",
                                 target: "/v1/responses?x=1", model: "gpt-4.1", decision: .block, reason: "secret",
                                 status: 403, findings: [token, email], bytesIn: 4096, inspectMs: 0.4,
                                 ruleSetHash: hash, policyHash: hash, quarantined: true)
    let refused = DecisionRecord(requestID: "req_178071f7e4023d8900000004", instance: "gateway-1:8443",
                                 clientAddress: "192.0.2.1",
                                 identity: Identity(user: "CN=build-bot", role: "ci", certificateFingerprint: String(repeating: "cd", count: 32)),
                                 provider: nil, method: "GET", target: "/v1/../admin", model: nil, decision: .refused,
                                 reason: "unknown_path", status: 404, bytesIn: 0, ruleSetHash: nil, policyHash: nil)
    let released = DecisionRecord(requestID: "req_178071f7e4023d8900000005", instance: "gateway-1:8443",
                                  clientAddress: "127.0.0.1", identity: identity, provider: "openai", method: "POST",
                                  target: "/v1/chat/completions", model: "gpt-4o-mini", decision: .released,
                                  reason: "released", findings: [token], bytesIn: 4096, bytesForwarded: 4096,
                                  ruleSetHash: hash, policyHash: hash,
                                  release: ReleaseReference(blockedRecord: blocked.id, tokenID: "rel_7Qx2", reviewer: "ana"))
    let failed = DecisionRecord(requestID: "req_178071f7e4023d8900000006", instance: "gateway-1:8443",
                                clientAddress: "127.0.0.1", identity: identity, provider: "openai", method: "POST",
                                target: "/v1/embeddings", model: "text-embedding-3-small", decision: .error,
                                reason: "upstream_timeout", status: 504, bytesIn: 64, bytesForwarded: 64,
                                ruleSetHash: hash, policyHash: hash)

    _ = try await log.append(clean)
    log.appendOutcome(RequestOutcome(id: clean.id, upstreamStatus: 200, status: 200, bytesOut: 576, streamed: true,
                                     upstreamMs: 310.5, totalMs: 312.25))
    _ = try await log.append(redacted)
    log.appendOutcome(RequestOutcome(id: redacted.id, upstreamStatus: 200, status: 200, bytesOut: 1210,
                                     upstreamMs: 800, totalMs: 801.5))
    _ = try await log.append(blocked)
    _ = try await log.append(ReviewEvent(id: blocked.id, action: .reveal, reviewer: "ana", reason: "false positive?"))
    _ = try await log.append(ReviewEvent(id: blocked.id, action: .release, reviewer: "ana", reason: "test token",
                                         tokenID: "rel_7Qx2", expires: "2030-01-01T00:00:00.000Z"))
    _ = try await log.append(refused)
    _ = try await log.append(released)
    log.appendOutcome(RequestOutcome(id: released.id, upstreamStatus: 200, status: 200, bytesOut: 99, upstreamMs: 50,
                                     totalMs: 51))
    try await Task.sleep(for: .milliseconds(50))  // lets the deferred outcome write happen on its own
    _ = try await log.append(failed)
    log.appendOutcome(RequestOutcome(id: failed.id, upstreamStatus: nil, status: 504, bytesOut: 0, upstreamMs: nil,
                                     totalMs: 600_000, error: "upstream_timeout"))
    _ = try await log.append(ReviewEvent(id: blocked.id, action: .deny, reviewer: "bo"))
    try await log.close()

    let directory = scratch + "/log"
    let report = AuditVerifier(directory: directory, key: fuzzKey).verify()
    guard report.ok else { throw SeedError.message("the generated log does not verify: \(report.failure!)") }
    let names = SegmentNames.list(in: directory).map { SegmentNames.name($0) }
    let files = names.map { Array(FileManager.default.contents(atPath: directory + "/" + $0) ?? Data()) }
    let head = Array(FileManager.default.contents(atPath: directory + "/" + HeadCheckpoint.fileName) ?? Data())
    print("generated log: \(names.count) segments, \(report.lines) lines, \(report.records) records, \(report.checkpoints) checkpoints")

    func joined(_ segments: [[UInt8]], head: [UInt8]?) -> [UInt8] {
        var out: [UInt8] = []
        for (index, segment) in segments.enumerated() {
            if index > 0 { out += segmentMarker }
            out += segment
        }
        if let head { out += headMarker + head }
        return out
    }
    func save(_ name: String, _ bytes: [UInt8]) {
        _ = FileManager.default.createFile(atPath: output + "/" + name, contents: Data(bytes))
    }
    let full = joined(files, head: head)
    save("full-log-with-head", full)
    save("full-log-resealed", resealMarker + full)
    save("segment-1-closed", files[0])
    save("segment-1-with-head", joined([files[0]], head: head))
    // Segment 1 without its closing checkpoint: an open log still being written.
    var lines = files[0].split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
    lines.removeLast(2)  // the empty piece after the final newline, and the checkpoint
    save("open-log", Array(lines.joined(separator: [UInt8(ascii: "\n")])) + [UInt8(ascii: "\n")])
    // A torn tail: the first segment cut in the middle of its last line.
    save("torn-tail", Array(files[0].dropLast(40)))
    // Reserved space: trailing NULs after the last line.
    save("reserved-nuls", files[0] + [UInt8](repeating: 0, count: 64))
    // Segment 2 alone (starts at a seq other than 1).
    if files.count > 1 { save("segment-2-alone", files[1]) }
    // One edited byte in a resealed segment: passes the MAC, breaks the chain.
    var edited = files[0]
    if let digit = edited.firstIndex(of: UInt8(ascii: "7")) { edited[digit] = UInt8(ascii: "8") }
    save("edited-resealed", resealMarker + edited)
    try? FileManager.default.removeItem(atPath: scratch)
}

enum SeedError: Error { case message(String) }
