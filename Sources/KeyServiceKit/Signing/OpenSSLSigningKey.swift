import COpenSSL
import GatewayCore

/// The enclave's RSA-2048 signing key held by OpenSSL 3, which signs about 2.5 times faster
/// than swift-crypto's BoringSSL on the hardware we run on (docs/performance.md). The scheme is
/// the contract's, bit for bit: RSASSA-PSS, SHA-256, MGF1-SHA-256, 32-byte salt, over the 32-byte
/// message hash; the tests check that swift-crypto verifies every signature made here and that
/// OpenSSL verifies swift-crypto's.
///
/// `@unchecked Sendable`: the `EVP_PKEY` is never modified after creation, and OpenSSL 3 lets
/// threads sign with one key concurrently as long as each uses its own `EVP_MD_CTX`, which every
/// call here makes and frees itself.
public final class OpenSSLSigningKey: InferenceSigner, @unchecked Sendable {
    private let key: OpaquePointer
    public let publicKey: InferenceVerifyingKey

    /// A fresh RSA-2048 key with e = 65537 (OpenSSL's default exponent).
    public static func generate() throws -> OpenSSLSigningKey {
        guard let context = EVP_PKEY_CTX_new_from_name(nil, "RSA", nil) else { throw OpenSSLError.last("EVP_PKEY_CTX_new_from_name") }
        defer { EVP_PKEY_CTX_free(context) }
        guard EVP_PKEY_keygen_init(context) == 1 else { throw OpenSSLError.last("EVP_PKEY_keygen_init") }
        guard EVP_PKEY_CTX_set_rsa_keygen_bits(context, 2048) == 1 else { throw OpenSSLError.last("EVP_PKEY_CTX_set_rsa_keygen_bits") }
        var key: OpaquePointer?
        guard EVP_PKEY_generate(context, &key) == 1, let key else { throw OpenSSLError.last("EVP_PKEY_generate") }
        return try OpenSSLSigningKey(taking: key)
    }

    /// A key from PKCS#8 or traditional PEM (tests use fixed keys).
    public convenience init(pemRepresentation pem: String) throws {
        let bytes = Array(pem.utf8)
        let key: OpaquePointer? = bytes.withUnsafeBufferPointer { buffer in
            guard let bio = BIO_new_mem_buf(buffer.baseAddress, Int32(buffer.count)) else { return nil }
            defer { BIO_free(bio) }
            return PEM_read_bio_PrivateKey(bio, nil, nil, nil)
        }
        guard let key else { throw OpenSSLError.last("PEM_read_bio_PrivateKey") }
        try self.init(taking: key)
    }

    private init(taking key: OpaquePointer) throws {
        self.key = key
        guard EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA, EVP_PKEY_get_bits(key) >= 2048 else {
            EVP_PKEY_free(key)
            throw OpenSSLError(operation: "key check", reason: "not an RSA key of at least 2048 bits")
        }
        var der: UnsafeMutablePointer<UInt8>?
        let length = i2d_PUBKEY(key, &der)
        guard length > 0, let der else {
            EVP_PKEY_free(key)
            throw OpenSSLError.last("i2d_PUBKEY")
        }
        defer { CRYPTO_free(der, #fileID, #line) }
        do {
            publicKey = try InferenceVerifyingKey(spkiDER: Array(UnsafeBufferPointer(start: der, count: Int(length))))
        } catch {
            EVP_PKEY_free(key)
            throw error
        }
    }

    deinit { EVP_PKEY_free(key) }

    public func sign(messageHash: Keccak256Digest) throws -> [UInt8] {
        guard let context = EVP_MD_CTX_new() else { throw OpenSSLError.last("EVP_MD_CTX_new") }
        defer { EVP_MD_CTX_free(context) }
        var parameters: OpaquePointer?
        guard EVP_DigestSignInit(context, &parameters, EVP_sha256(), nil, key) == 1, let parameters else {
            throw OpenSSLError.last("EVP_DigestSignInit")
        }
        guard EVP_PKEY_CTX_set_rsa_padding(parameters, RSA_PKCS1_PSS_PADDING) == 1,
              EVP_PKEY_CTX_set_rsa_pss_saltlen(parameters, 32) == 1,
              EVP_PKEY_CTX_set_rsa_mgf1_md(parameters, EVP_sha256()) == 1
        else { throw OpenSSLError.last("PSS parameters") }
        var signature = [UInt8](repeating: 0, count: Int(EVP_PKEY_get_size(key)))
        var length = signature.count
        let message = messageHash.bytes
        let status = message.withUnsafeBufferPointer { input in
            EVP_DigestSign(context, &signature, &length, input.baseAddress, input.count)
        }
        guard status == 1 else { throw OpenSSLError.last("EVP_DigestSign") }
        return Array(signature.prefix(length))
    }
}

/// RSA-PSS verification with OpenSSL, with the contract's parameters. Key-service never needs
/// it; it exists so the tests can check BoringSSL's signatures with OpenSSL, the other half of
/// the cross-check.
public enum OpenSSLPSSVerifier {
    public static func isValid(_ signature: [UInt8], messageHash: Keccak256Digest, spkiDER: [UInt8]) -> Bool {
        let key: OpaquePointer? = spkiDER.withUnsafeBufferPointer { buffer in
            var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
            return d2i_PUBKEY(nil, &cursor, buffer.count)
        }
        guard let key else { return false }
        defer { EVP_PKEY_free(key) }
        guard let context = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(context) }
        var parameters: OpaquePointer?
        guard EVP_DigestVerifyInit(context, &parameters, EVP_sha256(), nil, key) == 1, let parameters,
              EVP_PKEY_CTX_set_rsa_padding(parameters, RSA_PKCS1_PSS_PADDING) == 1,
              EVP_PKEY_CTX_set_rsa_pss_saltlen(parameters, 32) == 1,
              EVP_PKEY_CTX_set_rsa_mgf1_md(parameters, EVP_sha256()) == 1
        else { return false }
        let message = messageHash.bytes
        return message.withUnsafeBufferPointer { input in
            signature.withUnsafeBufferPointer { sig in
                EVP_DigestVerify(context, sig.baseAddress, sig.count, input.baseAddress, input.count) == 1
            }
        }
    }
}

/// An OpenSSL call failed; `reason` is OpenSSL's own error string when it left one.
public struct OpenSSLError: Error, CustomStringConvertible {
    public let operation: String
    public let reason: String

    static func last(_ operation: String) -> OpenSSLError {
        let code = ERR_get_error()
        var buffer = [CChar](repeating: 0, count: 256)
        if code != 0 { ERR_error_string_n(code, &buffer, buffer.count) }
        let reason = code == 0 ? "no error recorded" : String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return OpenSSLError(operation: operation, reason: reason)
    }

    public var description: String { "OpenSSL \(operation) failed: \(reason)" }
}
