import COpenSSL

/// HMAC-SHA-256 under one prepared key for a caller that computes MACs one after another: one context, made once and
/// re-initialised for each MAC (OpenSSL keeps the keyed state), instead of `HMACKey.mac`'s copy and free per call.
///
/// Not thread-safe: use it from one thread at a time (the decision log seals its lines on its own I/O queue).
/// `HMACKey.mac` is the form to share between threads. Results are identical.
public final class SerialHMAC {
    private let context: OpaquePointer

    public init(key: HMACKey) {
        guard let context = EVP_MAC_CTX_dup(key.template) else {
            preconditionFailure("EVP_MAC_CTX_dup failed: \(OpenSSLErrorStack.drain())")
        }
        self.context = context
    }

    deinit { EVP_MAC_CTX_free(self.context) }

    /// HMAC-SHA-256 of `data` (32 bytes).
    public func mac(_ data: UnsafeRawBufferPointer) -> [UInt8] {
        // A null key re-initialises with the key already set: the inner and outer pads are not recomputed.
        guard EVP_MAC_init(self.context, nil, 0, nil) == 1 else {
            preconditionFailure("HMAC-SHA256 re-initialisation failed: \(OpenSSLErrorStack.drain())")
        }
        var output = [UInt8](repeating: 0, count: 32)
        output.withUnsafeMutableBufferPointer { HMACKey.finish(self.context, over: data, into: $0) }
        return output
    }

    public func mac(_ data: [UInt8]) -> [UInt8] { data.withUnsafeBytes { self.mac($0) } }
}

/// SHA-256 for a caller that hashes one input after another: one digest context, made once and re-initialised per
/// hash, instead of `Crypto.sha256`'s context allocation and free per call. Not thread-safe, like `SerialHMAC`.
public final class SerialSHA256 {
    private let context: OpaquePointer

    public init() {
        guard let context = EVP_MD_CTX_new() else {
            preconditionFailure("EVP_MD_CTX_new failed: \(OpenSSLErrorStack.drain())")
        }
        self.context = context
    }

    deinit { EVP_MD_CTX_free(self.context) }

    /// SHA-256 of `data` (32 bytes), identical to `Crypto.sha256`.
    public func digest(_ data: UnsafeRawBufferPointer) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        let ok = output.withUnsafeMutableBytes { out in
            EVP_DigestInit_ex2(self.context, FetchedDigest.sha256.pointer, nil) == 1
                && EVP_DigestUpdate(self.context, data.baseAddress ?? UnsafeRawPointer(out.baseAddress!), data.count) == 1
                && EVP_DigestFinal_ex(self.context, out.baseAddress, &length) == 1
        }
        precondition(ok && length == 32, "SHA-256 failed: \(OpenSSLErrorStack.drain())")
        return output
    }

    public func digest(_ data: [UInt8]) -> [UInt8] { data.withUnsafeBytes { self.digest($0) } }
}
