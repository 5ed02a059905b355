import Crypto

/// HPKE KEMs this module can use. Raw values are the IANA HPKE KEM identifiers (RFC 9180 §7.1;
/// X-Wing 0x647a from draft-connolly-cfrg-xwing-kem).
public enum HPKEKEM: UInt16, Sendable, CaseIterable {
    case x25519HKDFSHA256 = 0x0020
    case xWing = 0x647A

    /// Npk: the key configuration carries the public key without a length prefix, so parsing a
    /// configuration requires knowing the KEM.
    public var publicKeyLength: Int {
        switch self {
        case .x25519HKDFSHA256: 32
        case .xWing: 1216
        }
    }

    /// Nenc: length of the encapsulated key that follows the request header.
    public var encapsulatedKeyLength: Int {
        switch self {
        case .x25519HKDFSHA256: 32
        case .xWing: 1120
        }
    }

    var crypto: HPKE.KEM {
        switch self {
        case .x25519HKDFSHA256: .Curve25519_HKDF_SHA256
        case .xWing: .XWingMLKEM768X25519
        }
    }
}

/// HPKE KDFs (RFC 9180 §7.2). Only HKDF-SHA256 is used: both shipped suites and RFC 9458
/// Appendix A need nothing else.
public enum HPKEKDF: UInt16, Sendable, CaseIterable {
    case hkdfSHA256 = 0x0001

    var crypto: HPKE.KDF { .HKDF_SHA256 }
}

/// HPKE AEADs (RFC 9180 §7.3). The response encryption of RFC 9458 §4.4 reuses the request's
/// AEAD, so these also size the response nonce and keys.
public enum HPKEAEAD: UInt16, Sendable, CaseIterable {
    case aes128GCM = 0x0001
    case aes256GCM = 0x0002
    case chaCha20Poly1305 = 0x0003

    /// Nk
    public var keyLength: Int {
        switch self {
        case .aes128GCM: 16
        case .aes256GCM, .chaCha20Poly1305: 32
        }
    }

    /// Nn
    public var nonceLength: Int { 12 }

    /// Nt
    public var tagLength: Int { 16 }

    var crypto: HPKE.AEAD {
        switch self {
        case .aes128GCM: .AES_GCM_128
        case .aes256GCM: .AES_GCM_256
        case .chaCha20Poly1305: .chaChaPoly
        }
    }
}

/// One complete HPKE suite: what a request header names and what both sides must agree on.
public struct HPKESuite: Hashable, Sendable, CustomStringConvertible {
    public let kem: HPKEKEM
    public let kdf: HPKEKDF
    public let aead: HPKEAEAD

    public init(kem: HPKEKEM, kdf: HPKEKDF, aead: HPKEAEAD) {
        self.kem = kem
        self.kdf = kdf
        self.aead = aead
    }

    /// The upstream-compatible suite (tee-gateway `ohttp.py`): DHKEM(X25519), HKDF-SHA256,
    /// ChaCha20-Poly1305.
    public static let x25519ChaCha20Poly1305 = HPKESuite(
        kem: .x25519HKDFSHA256, kdf: .hkdfSHA256, aead: .chaCha20Poly1305)

    /// The post-quantum suite: X-Wing (ML-KEM-768 + X25519), HKDF-SHA256, AES-256-GCM, the
    /// combination swift-crypto names `XWingMLKEM768X25519_SHA256_AES_GCM_256`.
    public static let xWingAES256GCM = HPKESuite(kem: .xWing, kdf: .hkdfSHA256, aead: .aes256GCM)

    /// max(Nn, Nk): the length of the exported response secrets and of the response nonce
    /// (RFC 9458 §4.4).
    public var responseNonceLength: Int { max(aead.nonceLength, aead.keyLength) }

    var ciphersuite: HPKE.Ciphersuite { HPKE.Ciphersuite(kem: kem.crypto, kdf: kdf.crypto, aead: aead.crypto) }

    public var description: String {
        "KEM 0x\(hex4(kem.rawValue)), KDF 0x\(hex4(kdf.rawValue)), AEAD 0x\(hex4(aead.rawValue))"
    }
}

func hex4(_ value: UInt16) -> String {
    let digits = String(value, radix: 16)
    return String(repeating: "0", count: 4 - digits.count) + digits
}
