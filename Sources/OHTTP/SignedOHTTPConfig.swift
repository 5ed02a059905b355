import Foundation
import GatewayCore

/// One key configuration with the enclave's signature over its config hash, in upstream's
/// JSON shape (tee-gateway `get_signed_hpke_config()`):
/// `{"key_id","kem_id","kdf_id","aead_id","public_key"(hex),"key_config"(base64),
///   "tee_id"("0x…"),"signature"(base64 RSA-PSS),"signature_hash"("0x…")}`.
///
/// Decoding checks that the loose fields agree with `key_config` and that `signature_hash` is
/// the hash of what is actually here, so a verifier only has to check the RSA-PSS signature
/// over `configHash` (done with the attested signing key, outside this module). The signature
/// itself is produced by the key-service and passed in.
public struct SignedOHTTPConfig: Hashable, Sendable, Codable {
    public let config: KeyConfig
    /// The configuration's only KDF/AEAD pair (the hash layout covers exactly one).
    public let suite: KeyConfig.SymmetricSuite
    public let teeID: [UInt8]
    public let signature: [UInt8]
    public let configHash: Keccak256Digest

    public init(config: KeyConfig, teeID: [UInt8], signature: [UInt8]) throws(OHTTPConfigError) {
        self.configHash = try OHTTPConfigHash.compute(teeID: teeID, config: config)
        self.suite = try OHTTPConfigHash.signedSuite(of: config)
        self.config = config
        self.teeID = teeID
        self.signature = signature
    }

    private enum CodingKeys: String, CodingKey {
        case keyID = "key_id"
        case kemID = "kem_id"
        case kdfID = "kdf_id"
        case aeadID = "aead_id"
        case publicKey = "public_key"
        case keyConfig = "key_config"
        case teeID = "tee_id"
        case signature
        case signatureHash = "signature_hash"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(config.keyID, forKey: .keyID)
        try container.encode(config.kem.rawValue, forKey: .kemID)
        try container.encode(suite.kdfID, forKey: .kdfID)
        try container.encode(suite.aeadID, forKey: .aeadID)
        try container.encode(Hex.encode(config.publicKey), forKey: .publicKey)
        try container.encode(Data(config.encoded).base64EncodedString(), forKey: .keyConfig)
        try container.encode("0x" + Hex.encode(teeID), forKey: .teeID)
        try container.encode(Data(signature).base64EncodedString(), forKey: .signature)
        try container.encode("0x" + configHash.hex, forKey: .signatureHash)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        do {
            let config = try KeyConfig(decoding: try Self.base64(container, .keyConfig))
            let suite = try OHTTPConfigHash.signedSuite(of: config)
            let loose: [(CodingKeys, UInt16)] = [
                (.keyID, UInt16(config.keyID)), (.kemID, config.kem.rawValue), (.kdfID, suite.kdfID),
                (.aeadID, suite.aeadID),
            ]
            for (key, expected) in loose where try container.decode(UInt16.self, forKey: key) != expected {
                throw OHTTPConfigError.fieldMismatch(key.stringValue)
            }
            guard try Self.hex(container, .publicKey) == config.publicKey else {
                throw OHTTPConfigError.fieldMismatch(CodingKeys.publicKey.stringValue)
            }
            try self.init(
                config: config, teeID: try Self.hex(container, .teeID),
                signature: try Self.base64(container, .signature))
            let declared = try container.decode(String.self, forKey: .signatureHash)
            guard try Self.hex(container, .signatureHash) == configHash.bytes else {
                throw OHTTPConfigError.hashMismatch(declared: declared, computed: configHash.hex)
            }
        } catch let error as OHTTPConfigError {
            throw DecodingError.dataCorrupted(
                DecodingError.Context(
                    codingPath: decoder.codingPath, debugDescription: error.description, underlyingError: error))
        } catch let error as KeyConfigError {
            throw DecodingError.dataCorrupted(
                DecodingError.Context(
                    codingPath: decoder.codingPath + [CodingKeys.keyConfig], debugDescription: error.description,
                    underlyingError: error))
        }
    }

    private static func hex(_ container: KeyedDecodingContainer<CodingKeys>, _ key: CodingKeys) throws -> [UInt8] {
        do {
            return try Hex.decode(try container.decode(String.self, forKey: key))
        } catch let error as Hex.DecodingError {
            throw OHTTPConfigError.invalidField(key.stringValue, reason: error.description)
        }
    }

    private static func base64(_ container: KeyedDecodingContainer<CodingKeys>, _ key: CodingKeys) throws -> [UInt8] {
        guard let data = Data(base64Encoded: try container.decode(String.self, forKey: key)) else {
            throw OHTTPConfigError.invalidField(key.stringValue, reason: "not base64")
        }
        return Array(data)
    }
}
