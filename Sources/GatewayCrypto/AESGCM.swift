import COpenSSL

/// AES-256-GCM sealing through the system OpenSSL, for values the gateway must store and later restore
/// (pseudonym vaults, review queues). The nonce is 12 random bytes per message; the tag is 16 bytes.
public enum AESGCM {
    public static let keyLength = 32
    public static let nonceLength = 12
    public static let tagLength = 16

    /// Encrypts `plaintext` and returns `nonce ‖ ciphertext ‖ tag`.
    public static func seal(_ plaintext: [UInt8], key: [UInt8], authenticating aad: [UInt8] = []) throws -> [UInt8] {
        precondition(key.count == Self.keyLength, "AES-256-GCM needs a 32-byte key")
        let nonce = Crypto.randomBytes(count: Self.nonceLength)
        guard let context = EVP_CIPHER_CTX_new() else { throw CryptoError("EVP_CIPHER_CTX_new") }
        defer { EVP_CIPHER_CTX_free(context) }
        guard EVP_EncryptInit_ex2(context, EVP_aes_256_gcm(), key, nonce, nil) == 1 else {
            throw CryptoError("EVP_EncryptInit_ex2")
        }
        var length: Int32 = 0
        if !aad.isEmpty {
            guard EVP_EncryptUpdate(context, nil, &length, aad, Int32(aad.count)) == 1 else {
                throw CryptoError("EVP_EncryptUpdate(aad)")
            }
        }
        var output = [UInt8](repeating: 0, count: plaintext.count + Self.tagLength)
        guard EVP_EncryptUpdate(context, &output, &length, plaintext, Int32(plaintext.count)) == 1 else {
            throw CryptoError("EVP_EncryptUpdate")
        }
        var finalLength: Int32 = 0
        let finalOK = output.withUnsafeMutableBufferPointer {
            EVP_EncryptFinal_ex(context, $0.baseAddress! + Int(length), &finalLength)
        }
        guard finalOK == 1 else { throw CryptoError("EVP_EncryptFinal_ex") }
        var tag = [UInt8](repeating: 0, count: Self.tagLength)
        guard EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_GET_TAG, Int32(Self.tagLength), &tag) == 1 else {
            throw CryptoError("EVP_CTRL_GCM_GET_TAG")
        }
        return nonce + output.prefix(Int(length + finalLength)) + tag
    }

    /// Decrypts `nonce ‖ ciphertext ‖ tag`; throws when the tag does not verify.
    public static func open(_ sealed: [UInt8], key: [UInt8], authenticating aad: [UInt8] = []) throws -> [UInt8] {
        precondition(key.count == Self.keyLength, "AES-256-GCM needs a 32-byte key")
        guard sealed.count >= Self.nonceLength + Self.tagLength else { throw CryptoError("AES-GCM open: too short") }
        let nonce = Array(sealed.prefix(Self.nonceLength))
        var tag = Array(sealed.suffix(Self.tagLength))
        let ciphertext = Array(sealed.dropFirst(Self.nonceLength).dropLast(Self.tagLength))
        guard let context = EVP_CIPHER_CTX_new() else { throw CryptoError("EVP_CIPHER_CTX_new") }
        defer { EVP_CIPHER_CTX_free(context) }
        guard EVP_DecryptInit_ex2(context, EVP_aes_256_gcm(), key, nonce, nil) == 1 else {
            throw CryptoError("EVP_DecryptInit_ex2")
        }
        var length: Int32 = 0
        if !aad.isEmpty {
            guard EVP_DecryptUpdate(context, nil, &length, aad, Int32(aad.count)) == 1 else {
                throw CryptoError("EVP_DecryptUpdate(aad)")
            }
        }
        var output = [UInt8](repeating: 0, count: ciphertext.count + Self.tagLength)
        guard EVP_DecryptUpdate(context, &output, &length, ciphertext, Int32(ciphertext.count)) == 1 else {
            throw CryptoError("EVP_DecryptUpdate")
        }
        guard EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_TAG, Int32(Self.tagLength), &tag) == 1 else {
            throw CryptoError("EVP_CTRL_GCM_SET_TAG")
        }
        var finalLength: Int32 = 0
        let finalOK = output.withUnsafeMutableBufferPointer {
            EVP_DecryptFinal_ex(context, $0.baseAddress! + Int(length), &finalLength)
        }
        guard finalOK == 1 else { throw CryptoError("AES-GCM open: authentication failed") }
        return Array(output.prefix(Int(length + finalLength)))
    }
}
