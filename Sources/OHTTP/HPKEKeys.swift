import Crypto
import Foundation

/// A gateway's HPKE private key. Only `OHTTPGatewayKeys` holds one: the key-service must never
/// hand it out (ARCHITECTURE §5), so nothing here serializes it.
enum HPKEPrivateKey: Sendable {
    case x25519(Curve25519.KeyAgreement.PrivateKey)
    case xWing(XWingMLKEM768X25519.PrivateKey)

    static func generate(_ kem: HPKEKEM) throws -> HPKEPrivateKey {
        switch kem {
        case .x25519HKDFSHA256: .x25519(Curve25519.KeyAgreement.PrivateKey())
        case .xWing: .xWing(try XWingMLKEM768X25519.PrivateKey.generate())
        }
    }

    /// Imports a fixed X25519 key, for the RFC 9458 Appendix A known-answer test only.
    init(x25519RawRepresentation raw: [UInt8]) throws {
        self = .x25519(try Curve25519.KeyAgreement.PrivateKey(rawRepresentation: raw))
    }

    var kem: HPKEKEM {
        switch self {
        case .x25519: .x25519HKDFSHA256
        case .xWing: .xWing
        }
    }

    var publicKeyBytes: [UInt8] {
        switch self {
        case .x25519(let key): Array(key.publicKey.rawRepresentation)
        case .xWing(let key): Array(key.publicKey.rawRepresentation)
        }
    }

    func recipient(suite: HPKESuite, info: [UInt8], encapsulatedKey: [UInt8]) throws -> HPKE.Recipient {
        switch self {
        case .x25519(let key):
            try X25519PointCheck.rejectSmallOrder(encapsulatedKey)
            return try HPKE.Recipient(
                privateKey: key, ciphersuite: suite.ciphersuite, info: Data(info),
                encapsulatedKey: Data(encapsulatedKey))
        case .xWing(let key):
            return try HPKE.Recipient(
                privateKey: key, ciphersuite: suite.ciphersuite, info: Data(info),
                encapsulatedKey: Data(encapsulatedKey))
        }
    }
}

/// Sets up the client side of HPKE to a published public key.
enum HPKESenderFactory {
    static func sender(publicKey: [UInt8], suite: HPKESuite, info: [UInt8]) throws -> HPKE.Sender {
        switch suite.kem {
        case .x25519HKDFSHA256:
            try X25519PointCheck.rejectSmallOrder(publicKey)
            return try HPKE.Sender(
                recipientKey: Curve25519.KeyAgreement.PublicKey(rawRepresentation: publicKey),
                ciphersuite: suite.ciphersuite, info: Data(info))
        case .xWing:
            return try HPKE.Sender(
                recipientKey: XWingMLKEM768X25519.PublicKey(rawRepresentation: publicKey),
                ciphersuite: suite.ciphersuite, info: Data(info))
        }
    }
}

/// RFC 9180 §7.1.4 requires aborting when the X25519 shared secret is all zeros, which
/// happens exactly for small-order points. swift-crypto deliberately does not check (see
/// X25519Keys_boring.swift), so both sides check here: a clamped scalar times a small-order
/// point is the identity, so one probe with a throwaway key decides it.
enum X25519PointCheck {
    struct SmallOrderPoint: Error, CustomStringConvertible {
        var description: String { "X25519 point has small order (all-zero shared secret, RFC 9180 §7.1.4)" }
    }

    static func rejectSmallOrder(_ point: [UInt8]) throws {
        let shared = try Curve25519.KeyAgreement.PrivateKey().sharedSecretFromKeyAgreement(
            with: Curve25519.KeyAgreement.PublicKey(rawRepresentation: point))
        if shared.withUnsafeBytes({ $0.allSatisfy { $0 == 0 } }) { throw SmallOrderPoint() }
    }
}

extension SymmetricKey {
    var bytes: [UInt8] { withUnsafeBytes { Array($0) } }
}
