// fuzz-http-head: the input is what a client sends on a connection (one or more HTTP/1.1 request heads, maybe
// bodies). It goes through NIO's HTTPRequestDecoder exactly as the gateway's listener configures it (see
// GatewayServer.bindListener: `.dropBytes`, header limits from `limits.max_header_bytes`, default 16384); every
// decoded head is then given to the gateway's own head checks. Decoder errors are fine (the gateway answers 400);
// a crash, trap or hang is a finding.
import Foundation
import GatewayCore
import NIOCore
import NIOEmbedded
import NIOHTTP1

/// The gateway's default `limits.max_header_bytes`.
let maxHeaderBytes = 16384

/// The gateway's checks on a decoded request head: a refusal is a fine answer; a head they accept must hold what
/// they promise (exactly one Host, Transfer-Encoding at most exactly `chunked`, no dot segment or encoded slash in the
/// path, only RFC 3986 bytes in the target, no gateway key outside the credential fields).
func checkRequestHead(_ head: HTTPRequestHead) {
    do { try RequestHeadChecks.check(head) } catch { return }
    let hosts = head.headers["host"].count
    precondition(hosts == 1 || (hosts == 0 && head.version.minor == 0), "accepted a head with \(hosts) Host fields")
    for coding in head.headers["transfer-encoding"] {
        precondition(coding.trimmingCharacters(in: [" ", "\t"]).lowercased() == "chunked", "accepted coding \(coding)")
    }
    let target = Array(head.uri.utf8)
    precondition(target.first == UInt8(ascii: "/"), "accepted a target that is not a path")
    let path = target.prefix { $0 != UInt8(ascii: "?") }
    for segment in path.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false) {
        let text = String(decoding: segment, as: UTF8.self).lowercased().replacingOccurrences(of: "%2e", with: ".")
        precondition(text != "." && text != "..", "accepted a dot segment in \(head.uri)")
    }
    let lowered = String(decoding: path, as: UTF8.self).lowercased()
    precondition(!lowered.contains("%2f") && !lowered.contains("%5c"), "accepted an encoded slash in \(head.uri)")
    precondition(target.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") },
                 "accepted an unsafe byte in \(head.uri)")
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let channel = EmbeddedChannel()
    defer { _ = try? channel.finish() }
    var limits = NIOHTTPDecoderLimitConfiguration()
    limits.maxHeaderListSize = maxHeaderBytes
    limits.maxHeaderFieldSize = maxHeaderBytes
    do {
        try channel.pipeline.syncOperations.addHandler(
            ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes, limitConfiguration: limits))
        )
    } catch {
        fatalError("cannot set up the pipeline: \(error)")
    }
    let buffer = channel.allocator.buffer(bytes: UnsafeBufferPointer(start: data, count: size))
    do {
        try channel.writeInbound(buffer)
    } catch {
        // A parse error: the decoder fires it after the parts it already produced; those are still checked.
    }
    while let part = try? channel.readInbound(as: HTTPServerRequestPart.self) {
        if case .head(let head) = part { checkRequestHead(head) }
    }
    return 0
}
