import CSodium
import Crypto
import Foundation

/// A small file encrypted under a key derived from `CLIENT_KEK`: what the proxy keeps on disk
/// (the attestation cache with its pinned keys) is unreadable and unforgeable without the KEK.
///
/// Format: `"CPXSEAL1"` (8 bytes) ‖ 24-byte random nonce ‖ XChaCha20-Poly1305-IETF ciphertext
/// and tag (libsodium), with the 8-byte magic as associated data. The key is
/// HKDF-SHA256(ikm: KEK, salt: "confidential-proxy", info: "disk-cache v1 xchacha20poly1305"),
/// so the KEK itself never encrypts anything and other uses of it get other keys.
///
/// A file that does not open (another KEK, corruption, truncation) reads as `nil` with the
/// reason, so the caller logs a warning and starts fresh instead of trusting or crashing.
public struct SealedFile: Sendable {
    public static let magic = Array("CPXSEAL1".utf8)
    public static let nonceLength = 24
    public static let tagLength = 16

    public let url: URL
    private let key: [UInt8]

    public init(url: URL, kek: ClientKEK) {
        self.url = url
        key = Self.deriveKey(kek)
    }

    /// The cache key, exposed for the cross-check against an independent XChaCha20-Poly1305.
    public static func deriveKey(_ kek: ClientKEK) -> [UInt8] {
        let derived = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: kek.bytes), salt: Array("confidential-proxy".utf8),
            info: Array("disk-cache v1 xchacha20poly1305".utf8), outputByteCount: 32)
        return derived.withUnsafeBytes { Array($0) }
    }

    /// Why a file was not used.
    public enum ReadFailure: Error, Sendable, Equatable, CustomStringConvertible {
        case notSealed
        case doesNotOpen

        public var description: String {
            switch self {
            case .notSealed: "not a confidential-proxy sealed file (bad magic or too short)"
            case .doesNotOpen: "does not decrypt: written under another CLIENT_KEK, or corrupted"
            }
        }
    }

    /// nil when there is no file; `.failure` when there is one that cannot be trusted.
    public func read() -> Result<[UInt8], ReadFailure>? {
        guard let data = FileManager.default.contents(atPath: url.path) else { return nil }
        return Self.open(Array(data), key: key)
    }

    /// Writes atomically (temporary file, then rename), readable by the owner only.
    public func write(_ plaintext: [UInt8]) throws {
        let sealed = Self.seal(plaintext, key: key)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp")
        guard FileManager.default.createFile(atPath: temporary.path, contents: Data(sealed), attributes: [.posixPermissions: 0o600])
        else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: temporary.path]) }
        guard rename(temporary.path, url.path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary.path)
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path, NSLocalizedDescriptionKey: reason])
        }
    }

    public static func seal(_ plaintext: [UInt8], key: [UInt8], nonce fixedNonce: [UInt8]? = nil) -> [UInt8] {
        precondition(key.count == 32 && sodium_init() >= 0)
        var nonce = fixedNonce ?? [UInt8](repeating: 0, count: nonceLength)
        if fixedNonce == nil { randombytes_buf(&nonce, nonceLength) }
        var ciphertext = [UInt8](repeating: 0, count: plaintext.count + tagLength)
        var written: UInt64 = 0
        _ = crypto_aead_xchacha20poly1305_ietf_encrypt(
            &ciphertext, &written, plaintext, UInt64(plaintext.count), magic, UInt64(magic.count), nil, nonce, key)
        return magic + nonce + ciphertext.prefix(Int(written))
    }

    public static func open(_ sealed: [UInt8], key: [UInt8]) -> Result<[UInt8], ReadFailure> {
        precondition(key.count == 32 && sodium_init() >= 0)
        let header = magic.count + nonceLength
        guard sealed.count >= header + tagLength, Array(sealed.prefix(magic.count)) == magic else { return .failure(.notSealed) }
        let nonce = Array(sealed[magic.count..<header])
        let ciphertext = Array(sealed[header...])
        var plaintext = [UInt8](repeating: 0, count: ciphertext.count)
        var written: UInt64 = 0
        let status = crypto_aead_xchacha20poly1305_ietf_decrypt(
            &plaintext, &written, nil, ciphertext, UInt64(ciphertext.count), magic, UInt64(magic.count), nonce, key)
        guard status == 0 else { return .failure(.doesNotOpen) }
        return .success(Array(plaintext.prefix(Int(written))))
    }
}
