import Crypto
import _CryptoExtras

import Foundation

/// The operator's Ed25519 public key, the only key whose signature makes key-service accept
/// provider secrets (ARCHITECTURE §5.3) and the supervisor's host-facing control listener run a
/// mutating command (`SignedControlCommand`). It comes from the measured image configuration (a flag
/// or file baked into the EIF), never from the network, so changing it changes the PCRs.
public struct OperatorKey: Sendable {
    public let publicKey: Curve25519.Signing.PublicKey

    public init(_ publicKey: Curve25519.Signing.PublicKey) {
        self.publicKey = publicKey
    }

    /// Accepts a PEM `PUBLIC KEY` (SubjectPublicKeyInfo, what `openssl pkey -pubout` writes) or
    /// the standard base64 of the raw 32-byte key.
    public init(parsing text: String) throws(OperatorKeyError) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.hasPrefix("-----BEGIN") {
            do {
                publicKey = try Curve25519.Signing.PublicKey(pemRepresentation: trimmed)
            } catch {
                throw .invalidPEM(String(describing: error))
            }
            return
        }
        guard let raw = Data(base64Encoded: trimmed) else { throw .notPEMOrBase64 }
        guard raw.count == 32 else { throw .wrongRawLength(raw.count) }
        do {
            publicKey = try Curve25519.Signing.PublicKey(rawRepresentation: raw)
        } catch {
            throw .invalidPEM(String(describing: error))
        }
    }
}

public enum OperatorKeyError: Error, Equatable, CustomStringConvertible {
    case notPEMOrBase64
    case wrongRawLength(Int)
    case invalidPEM(String)

    public var description: String {
        switch self {
        case .notPEMOrBase64:
            "operator key: expected a PEM 'PUBLIC KEY' block or the base64 of a raw 32-byte Ed25519 key"
        case .wrongRawLength(let count):
            "operator key: a raw Ed25519 public key is 32 bytes, the base64 decodes to \(count)"
        case .invalidPEM(let reason):
            "operator key: not an Ed25519 public key: \(reason)"
        }
    }
}
