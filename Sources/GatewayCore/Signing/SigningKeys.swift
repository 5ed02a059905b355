import Crypto
import _CryptoExtras

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Why a signing or verification step failed.
public enum SigningError: Error, Equatable, CustomStringConvertible {
    case invalidPublicKey(String)
    case keyTooSmall(bits: Int)
    case signatureFailed(String)

    public var description: String {
        switch self {
        case .invalidPublicKey(let why): "not an RSA public key: \(why)"
        case .keyTooSmall(let bits): "RSA key of \(bits) bits is too small; the contract uses 2048"
        case .signatureFailed(let why): "RSA-PSS signing failed: \(why)"
        }
    }
}

/// Something that signs with the enclave's RSA-2048 key under the contract's scheme. Two real
/// implementations: `InferenceSigningKey` (swift-crypto, BoringSSL) here, and key-service's
/// OpenSSL-backed key, which is faster on our hardware; each verifies the other's signatures.
public protocol InferenceSigner: Sendable {
    var publicKey: InferenceVerifyingKey { get }

    /// Signs exactly the 32-byte message hash (RSASSA-PSS, SHA-256, MGF1-SHA-256, salt 32).
    func sign(messageHash: Keccak256Digest) throws -> [UInt8]
}

extension InferenceSigner {
    public var teeID: TEEID { publicKey.teeID }

    /// The signature over `keccak(requestHash ‖ outputHash ‖ timestamp)`, with its fields.
    public func sign(requestHash: Keccak256Digest, outputHash: Keccak256Digest, timestamp: UInt64) throws -> TEESignature {
        let message = SignedMessage.hash(requestHash: requestHash, outputHash: outputHash, timestamp: timestamp)
        return TEESignature(
            requestHash: requestHash, outputHash: outputHash, timestamp: timestamp,
            signature: try sign(messageHash: message), teeID: teeID
        )
    }
}

/// The enclave's RSA-2048 signing key. Only the key service ever holds one.
///
/// The scheme is RSASSA-PSS with SHA-256, MGF1-SHA-256 and a 32-byte salt over the 32-byte
/// ``SignedMessage`` hash; PSS hashes that message again with SHA-256 internally, which is what
/// upstream's Python and the on-chain `verifyRSAPSS` precompile expect.
public struct InferenceSigningKey: InferenceSigner {
    private let key: _RSA.Signing.PrivateKey
    public let publicKey: InferenceVerifyingKey

    /// A fresh RSA-2048 key with e = 65537.
    public static func generate() throws -> InferenceSigningKey {
        try InferenceSigningKey(key: _RSA.Signing.PrivateKey(keySize: .bits2048))
    }

    public init(pemRepresentation: String) throws {
        try self.init(key: _RSA.Signing.PrivateKey(pemRepresentation: pemRepresentation))
    }

    private init(key: _RSA.Signing.PrivateKey) throws {
        self.key = key
        publicKey = try InferenceVerifyingKey(key.publicKey)
    }

    /// Signs exactly the 32-byte message hash. Callers cannot choose other bytes: the key service
    /// builds `messageHash` from the two hashes and its own clock.
    public func sign(messageHash: Keccak256Digest) throws -> [UInt8] {
        do {
            return Array(try key.signature(for: messageHash.bytes, padding: .PSS).rawRepresentation)
        } catch {
            throw SigningError.signatureFailed(String(describing: error))
        }
    }
}

/// A public signing key as `/signing-key` publishes it, with the `tee_id` derived from it.
public struct InferenceVerifyingKey: Sendable {
    private let key: _RSA.Signing.PublicKey
    /// SubjectPublicKeyInfo DER, the bytes `tee_id` and the attestation binding hash.
    public let spkiDER: [UInt8]
    public let teeID: TEEID

    init(_ key: _RSA.Signing.PublicKey) throws {
        guard key.keySizeInBits >= 2048 else { throw SigningError.keyTooSmall(bits: key.keySizeInBits) }
        self.key = key
        spkiDER = Array(key.derRepresentation)
        teeID = TEEID(spkiDER: spkiDER)
    }

    public init(pem: String) throws {
        let key: _RSA.Signing.PublicKey
        do { key = try _RSA.Signing.PublicKey(pemRepresentation: pem) } catch { throw SigningError.invalidPublicKey(String(describing: error)) }
        try self.init(key)
    }

    public init(spkiDER: [UInt8]) throws {
        let key: _RSA.Signing.PublicKey
        do { key = try _RSA.Signing.PublicKey(derRepresentation: spkiDER) } catch { throw SigningError.invalidPublicKey(String(describing: error)) }
        try self.init(key)
    }

    public var pem: String { key.pemRepresentation + "\n" }

    public func isValidSignature(_ signature: [UInt8], messageHash: Keccak256Digest) -> Bool {
        key.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: signature), for: messageHash.bytes, padding: .PSS)
    }

    /// Checks the signature over the fields and that `tee_id` names this key.
    public func verify(_ signature: TEESignature) -> SignatureCheck {
        guard signature.teeID == teeID else { return .wrongTEEID(expected: teeID, got: signature.teeID) }
        guard isValidSignature(signature.signature, messageHash: signature.messageHash) else { return .badSignature }
        return .valid
    }
}

/// The outcome of checking a response's `tee_*` fields against a key.
public enum SignatureCheck: Sendable, Equatable, CustomStringConvertible {
    case valid
    case wrongTEEID(expected: TEEID, got: TEEID)
    case badSignature

    public var description: String {
        switch self {
        case .valid: "signature valid"
        case .wrongTEEID(let expected, let got): "tee_id mismatch: the key is \(expected), the response names \(got)"
        case .badSignature: "tee_signature does not verify over keccak(request hash ‖ output hash ‖ timestamp)"
        }
    }
}
