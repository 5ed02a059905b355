import GatewayCore

/// The hash the enclave signs over each key configuration (ARCHITECTURE §8), identical to
/// `TEERegistryV2.computeOHTTPConfigHash` so the on-chain registry can verify the signature:
///
///     keccak(keccak("OPENGRADIENT_TEE_OHTTP_CONFIG_V1") ‖ tee_id(32) ‖ u256 key_id ‖ u256 kem_id
///            ‖ u256 kdf_id ‖ u256 aead_id ‖ keccak(public_key) ‖ keccak(key_config))
///
/// That layout names one KDF/AEAD pair, so only single-suite configurations can be hashed;
/// the gateway publishes exactly one suite per configuration.
public enum OHTTPConfigHash {
    public static let domain = "OPENGRADIENT_TEE_OHTTP_CONFIG_V1"
    public static let teeIDLength = 32

    public static func compute(teeID: [UInt8], config: KeyConfig) throws(OHTTPConfigError) -> Keccak256Digest {
        guard teeID.count == teeIDLength else { throw .invalidTEEIDLength(teeID.count) }
        let suite = try signedSuite(of: config)
        var preimage = Keccak256.hash(Array(domain.utf8)).bytes
        preimage += teeID
        for value in [UInt16(config.keyID), config.kem.rawValue, suite.kdfID, suite.aeadID] {
            preimage += [UInt8](repeating: 0, count: 30)
            preimage.appendUInt16(value)
        }
        preimage += Keccak256.hash(config.publicKey).bytes
        preimage += Keccak256.hash(config.encoded).bytes
        return Keccak256.hash(preimage)
    }

    static func signedSuite(of config: KeyConfig) throws(OHTTPConfigError) -> KeyConfig.SymmetricSuite {
        guard config.symmetricSuites.count == 1, let suite = config.symmetricSuites.first else {
            throw .notSingleSuite(config.symmetricSuites.count)
        }
        return suite
    }
}

public enum OHTTPConfigError: Error, Hashable, Sendable, CustomStringConvertible {
    case invalidTEEIDLength(Int)
    case notSingleSuite(Int)
    case invalidField(String, reason: String)
    case fieldMismatch(String)
    case hashMismatch(declared: String, computed: String)
    case missingX25519Config

    public var description: String {
        switch self {
        case .invalidTEEIDLength(let length):
            "OHTTP config: tee_id must be \(OHTTPConfigHash.teeIDLength) bytes, got \(length)"
        case .notSingleSuite(let count):
            "OHTTP config: the signed config hash covers exactly one KDF/AEAD pair, configuration has \(count)"
        case .invalidField(let field, let reason):
            "OHTTP config: invalid \(field): \(reason)"
        case .fieldMismatch(let field):
            "OHTTP config: \(field) disagrees with the encoded key_config"
        case .hashMismatch(let declared, let computed):
            "OHTTP config: signature_hash \(declared) does not match the recomputed config hash 0x\(computed)"
        case .missingX25519Config:
            "OHTTP config: no X25519 configuration for the upstream-compatible top-level fields"
        }
    }
}
