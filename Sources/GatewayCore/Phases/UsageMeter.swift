import Foundation
import GatewayAudit
import GatewayDocuments
import NIOCore

/// Reads the tokens a request used from the vendor's answer, as it streams by, into `context.usage` (the outcome
/// line records it). It changes nothing in the answer.
///
/// Both APIs put usage near an end of the answer:
/// - OpenAI: the `usage` object closes a JSON answer, and a stream's last chunk (with `stream_options.include_usage`);
/// - Anthropic: a JSON message ends with `usage`; a stream's `message_start` carries the input tokens and its
///   `message_delta` the output tokens.
///
/// So the filter keeps, in its own state, the first `headBytes` and the last `tailBytes` of the answer and reads the
/// `usage` objects found there when the answer ends: a bounded copy, whatever the answer's size.
struct UsageMeter: GatewayFilter {
    static let headBytes = 4096
    static let tailBytes = 16384

    struct State: Sendable {
        var head: [UInt8] = []
        /// The answer's last bytes (up to twice `tailBytes` between trims).
        var tail: [UInt8] = []
        var total = 0
    }

    func makeState() -> State { State() }

    func responseBody(_ part: inout ByteBuffer?, endOfStream: Bool, context: inout RequestContext, state: inout State) {
        if let part {
            part.withUnsafeReadableBytes { bytes in
                if state.head.count < Self.headBytes {
                    state.head.append(contentsOf: bytes.prefix(Self.headBytes - state.head.count))
                }
                if state.total + bytes.count > Self.headBytes {
                    state.tail.append(contentsOf: bytes.suffix(Self.tailBytes))
                    if state.tail.count > 2 * Self.tailBytes { state.tail.removeFirst(state.tail.count - Self.tailBytes) }
                }
                state.total += bytes.count
            }
        }
        guard endOfStream else { return }
        context.usage = Self.usage(in: state.head).merged(with: Self.usage(in: state.tail))
    }

    /// The usage objects in `bytes` merged: the largest count of each kind (a stream repeats or accumulates them).
    static func usage(in bytes: [UInt8]) -> TokenUsage? {
        var found: TokenUsage? = nil
        bytes.withUnsafeBufferPointer { buffer in
            var index = 0
            while let hit = ByteText.firstIndex(of: Self.usageKey, in: buffer, from: index) {
                index = hit + Self.usageKey.count
                if let object = Self.object(after: index, in: bytes) { found = found.merged(with: Self.read(object)) }
            }
        }
        return found
    }

    private static let usageKey = Array(#""usage""#.utf8)

    /// The balanced `{…}` that follows `start` (after a colon and spaces), at most 4 KiB; nil when there is none.
    private static func object(after start: Int, in bytes: [UInt8]) -> [UInt8]? {
        var index = start
        while index < bytes.count, bytes[index] == UInt8(ascii: " ") || bytes[index] == UInt8(ascii: ":") { index += 1 }
        guard index < bytes.count, bytes[index] == UInt8(ascii: "{") else { return nil }
        var depth = 0
        var inString = false
        var escaped = false
        for end in index..<min(bytes.count, index + 4096) {
            let byte = bytes[end]
            if inString {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "{"): depth += 1
            case UInt8(ascii: "}"):
                depth -= 1
                if depth == 0 { return Array(bytes[index...end]) }
            default: break
            }
        }
        return nil
    }

    /// The counts of one usage object, in either API's names.
    private static func read(_ object: [UInt8]) -> TokenUsage? {
        guard let usage = (try? JSONSerialization.jsonObject(with: Data(object))) as? [String: Any] else { return nil }
        func int(_ value: Any?) -> Int? { (value as? NSNumber)?.intValue }
        var prompt = int(usage["prompt_tokens"]) ?? int(usage["input_tokens"])
        let completion = int(usage["completion_tokens"]) ?? int(usage["output_tokens"])
        let details = (usage["prompt_tokens_details"] ?? usage["input_tokens_details"]) as? [String: Any]
        var cached = int(details?["cached_tokens"])
        // Anthropic counts cache reads and cache writes apart from `input_tokens`; OpenAI's prompt counts include
        // their cached part. Prompt here always includes the cached tokens, as OpenAI counts.
        let cacheRead = int(usage["cache_read_input_tokens"])
        let cacheWrite = int(usage["cache_creation_input_tokens"])
        if cacheRead != nil || cacheWrite != nil {
            prompt = (prompt ?? 0) + (cacheRead ?? 0) + (cacheWrite ?? 0)
            cached = cacheRead
        }
        guard prompt != nil || completion != nil else { return nil }
        return TokenUsage(prompt: prompt ?? 0, completion: completion ?? 0, cached: cached)
    }
}

extension Optional where Wrapped == TokenUsage {
    /// The larger count of each kind (`nil` + x = x).
    func merged(with other: TokenUsage?) -> TokenUsage? {
        guard let self else { return other }
        guard let other else { return self }
        let cached: Int? = switch (self.cached, other.cached) {
        case (let a?, let b?): Swift.max(a, b)
        case (let a?, nil): a
        case (nil, let b): b
        }
        return TokenUsage(
            prompt: Swift.max(self.prompt, other.prompt), completion: Swift.max(self.completion, other.completion),
            cached: cached)
    }
}
