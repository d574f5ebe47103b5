/// The request header fields a provider receives from callers (`providers[].forward_headers`): exact names and
/// name prefixes (`x-stainless-*`), compared without regard to ASCII case. Every other caller field is dropped:
/// a header is a side channel that can neither be redacted nor be known to be harmless, so only what the vendors'
/// own SDKs send passes. The gateway's own fields (`Host`, `Content-Length`, the vendor credential) are set apart
/// from this list.
public struct HeaderAllowList: Sendable, Hashable {
    /// Lower-cased exact names.
    public let names: [String]
    /// Lower-cased prefixes (a pattern's text before its trailing `*`).
    public let prefixes: [String]

    /// `patterns`: field names, or a name prefix followed by `*`. Matching ignores case.
    public init(_ patterns: [String]) {
        self.names = patterns.filter { !$0.hasSuffix("*") }.map { $0.lowercased() }
        self.prefixes = patterns.filter { $0.hasSuffix("*") }.map { String($0.dropLast()).lowercased() }
    }

    /// What the official SDKs send and the vendors read, per API shape. Content negotiation, the body's type and
    /// coding, the SDKs' telemetry (`x-stainless-*`), retries' idempotency keys, and the vendor's own option headers.
    public static func defaults(for shape: ProviderAPIShape) -> HeaderAllowList {
        let common = [
            "accept", "accept-encoding", "accept-language", "content-type", "content-encoding", "user-agent",
            "idempotency-key", "x-stainless-*",
        ]
        switch shape {
        case .openai: return HeaderAllowList(common + ["openai-*"])
        case .anthropic: return HeaderAllowList(common + ["anthropic-*"])
        }
    }

    /// Whether a field named `name` is forwarded. A name holding `_` never is (nginx's `underscores_in_headers
    /// off`): `Transfer_Encoding` must not reach a server that folds `_` into `-`.
    public func allows(_ name: String) -> Bool {
        var name = name
        return name.withUTF8 { bytes in
            if bytes.contains(UInt8(ascii: "_")) { return false }
            for allowed in self.names where Self.equalIgnoringCase(bytes, allowed, prefix: false) { return true }
            for prefix in self.prefixes where Self.equalIgnoringCase(bytes, prefix, prefix: true) { return true }
            return false
        }
    }

    /// Whether `bytes` equals (or, with `prefix`, starts with) the lower-case `pattern`, ignoring ASCII case.
    private static func equalIgnoringCase(_ bytes: UnsafeBufferPointer<UInt8>, _ pattern: String, prefix: Bool) -> Bool {
        let lowered = pattern.utf8
        guard prefix ? bytes.count >= lowered.count : bytes.count == lowered.count else { return false }
        var index = 0
        for expected in lowered {
            let byte = bytes[index]
            if (byte &- UInt8(ascii: "A") < 26 ? byte | 0x20 : byte) != expected { return false }
            index += 1
        }
        return true
    }

    /// Why `pattern` cannot be used, or nil: a field-name token, optionally ending in `*`, without `_`.
    static func complaint(about pattern: String) -> String? {
        let name = pattern.hasSuffix("*") ? String(pattern.dropLast()) : pattern
        if name.isEmpty { return "is not a header name or prefix" }
        if name.contains("*") { return "may hold '*' only at its end" }
        if !HTTPFieldSyntax.isToken(name) { return "is not a valid header field name" }
        if name.contains("_") { return "holds '_': such fields are never forwarded" }
        if HTTPFieldSyntax.reservedNames.contains(name.lowercased()) { return "is set by the gateway itself" }
        return nil
    }
}
