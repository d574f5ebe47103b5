import COpenSSL

/// An HMAC-SHA-256 key prepared once (algorithm fetched, key schedule done) so that each MAC costs only a context
/// copy, an update and a final — instead of the provider look-up and key setup `EVP_Q_mac` does on every call.
///
/// Immutable after init and safe to share between threads: every `mac` call works on its own duplicate of the
/// prepared context (`EVP_MAC_CTX_dup`), the template itself is never updated.
public final class HMACKey: @unchecked Sendable {
    private let mac: OpaquePointer
    let template: OpaquePointer  // internal: `SerialHMAC` starts from a copy of it

    public init<Key: Collection>(_ key: Key) where Key.Element == UInt8 {
        guard let mac = EVP_MAC_fetch(nil, "HMAC", nil) else {
            preconditionFailure("EVP_MAC_fetch(HMAC) failed: \(OpenSSLErrorStack.drain())")
        }
        guard let context = EVP_MAC_CTX_new(mac) else {
            preconditionFailure("EVP_MAC_CTX_new failed: \(OpenSSLErrorStack.drain())")
        }
        var digest = Array("SHA256".utf8CString)
        let keyBytes = Array(key)
        let ok = digest.withUnsafeMutableBufferPointer { name in
            // The parameter keeps the key pointer, so it must outlive this call: a static string, not a temporary.
            let parameterName: StaticString = "digest"
            let key = UnsafeRawPointer(parameterName.utf8Start).assumingMemoryBound(to: CChar.self)
            var params = [OSSL_PARAM_construct_utf8_string(key, name.baseAddress, 0),
                          OSSL_PARAM_construct_end()]
            return params.withUnsafeMutableBufferPointer { paramList in
                keyBytes.withUnsafeBufferPointer { raw in
                    // A zero-length key still needs a non-null pointer.
                    let empty: [UInt8] = [0]
                    return empty.withUnsafeBufferPointer { fallback in
                        EVP_MAC_init(context, raw.baseAddress ?? fallback.baseAddress, raw.count,
                                     UnsafePointer(paramList.baseAddress))
                    }
                }
            }
        }
        precondition(ok == 1, "EVP_MAC_init(HMAC-SHA256) failed: \(OpenSSLErrorStack.drain())")
        self.mac = mac
        self.template = context
    }

    deinit {
        EVP_MAC_CTX_free(self.template)
        EVP_MAC_free(self.mac)
    }

    /// HMAC-SHA-256 of `data` (32 bytes), identical to `Crypto.hmacSHA256(key:data:)`.
    public func mac(_ data: UnsafeRawBufferPointer) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        out.withUnsafeMutableBufferPointer { self.mac(data, into: $0) }
        return out
    }

    public func mac<Bytes: Collection>(_ data: Bytes) -> [UInt8] where Bytes.Element == UInt8 {
        if let result = data.withContiguousStorageIfAvailable({ self.mac(UnsafeRawBufferPointer($0)) }) {
            return result
        }
        return Array(data).withUnsafeBytes { self.mac($0) }
    }

    /// Writes the 32-byte MAC of `data` into `output` (at least 32 bytes).
    public func mac(_ data: UnsafeRawBufferPointer, into output: UnsafeMutableBufferPointer<UInt8>) {
        precondition(output.count >= 32)
        guard let context = EVP_MAC_CTX_dup(self.template) else {
            preconditionFailure("EVP_MAC_CTX_dup failed: \(OpenSSLErrorStack.drain())")
        }
        defer { EVP_MAC_CTX_free(context) }
        Self.finish(context, over: data, into: output)
    }

    /// Feeds `data` to an initialised HMAC-SHA-256 context and writes its 32-byte MAC into `output`. Shared by
    /// `mac` (on a copy of the template) and `SerialHMAC` (on its re-initialised context).
    static func finish(
        _ context: OpaquePointer, over data: UnsafeRawBufferPointer, into output: UnsafeMutableBufferPointer<UInt8>
    ) {
        var length = 0
        let empty: [UInt8] = [0]
        let ok = empty.withUnsafeBufferPointer { fallback in
            EVP_MAC_update(context, data.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? fallback.baseAddress,
                           data.count) == 1
                && EVP_MAC_final(context, output.baseAddress, &length, output.count) == 1
        }
        precondition(ok && length == 32, "HMAC-SHA256 failed: \(OpenSSLErrorStack.drain())")
    }
}
