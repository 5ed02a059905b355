import Foundation
import GatewayCore
import Testing

@testable import OHTTP

@Suite struct ConfigHashTests {
    let vector: OHTTPVectors.ConfigHash
    let config: KeyConfig
    let teeID: [UInt8]

    init() throws {
        vector = try OHTTPVectors.load().config_hash
        config = try KeyConfig(decoding: try hex(vector.key_config))
        teeID = try hex(vector.tee_id)
    }

    @Test func goldenVector() throws {
        #expect(vector.domain == OHTTPConfigHash.domain)
        #expect(
            Keccak256.hash(Array(OHTTPConfigHash.domain.utf8)).hex
                == "ff122683e0feb4f7d9e972e601b45f228210d60754c0f594e28eff64ca7bde9b")
        #expect(
            [
                UInt16(config.keyID), config.kem.rawValue, config.symmetricSuites[0].kdfID,
                config.symmetricSuites[0].aeadID,
            ] == vector.ids)
        #expect(config.publicKey == (try hex(vector.public_key)))
        #expect(try OHTTPConfigHash.compute(teeID: teeID, config: config).hex == vector.hash)
    }

    @Test func everyInputChangesTheHash() throws {
        let golden = try OHTTPConfigHash.compute(teeID: teeID, config: config)
        var otherTEE = teeID
        otherTEE[31] ^= 1
        #expect(try OHTTPConfigHash.compute(teeID: otherTEE, config: config) != golden)
        let variants = [
            try KeyConfig(
                keyID: 2, kem: config.kem, publicKey: config.publicKey, symmetricSuites: config.symmetricSuites),
            try KeyConfig(
                keyID: 1, kem: config.kem, publicKey: [UInt8](repeating: 3, count: 32),
                symmetricSuites: config.symmetricSuites),
            try KeyConfig(
                keyID: 1, kem: config.kem, publicKey: config.publicKey,
                symmetricSuites: [.init(kdf: .hkdfSHA256, aead: .aes256GCM)]),
        ]
        for variant in variants {
            #expect(try OHTTPConfigHash.compute(teeID: teeID, config: variant) != golden)
        }
    }

    @Test func refusesWhatTheLayoutCannotExpress() throws {
        #expect(throws: OHTTPConfigError.invalidTEEIDLength(31)) {
            try OHTTPConfigHash.compute(teeID: Array(teeID.dropLast()), config: config)
        }
        let twoSuites = try KeyConfig(decoding: try hex(try OHTTPVectors.load().rfc9458_appendix_a.key_config))
        #expect(throws: OHTTPConfigError.notSingleSuite(2)) {
            try OHTTPConfigHash.compute(teeID: teeID, config: twoSuites)
        }
    }

    @Test func signedConfigHasTheUpstreamJSONShape() throws {
        let signed = try SignedOHTTPConfig(config: config, teeID: teeID, signature: [0xDE, 0xAD])
        let object = try #require(
            try JSONSerialization.jsonObject(with: JSONEncoder().encode(signed)) as? [String: Any])
        #expect(
            Set(object.keys) == [
                "key_id", "kem_id", "kdf_id", "aead_id", "public_key", "key_config", "tee_id", "signature",
                "signature_hash",
            ])
        #expect(object["key_id"] as? Int == 1)
        #expect(object["kem_id"] as? Int == 32)
        #expect(object["kdf_id"] as? Int == 1)
        #expect(object["aead_id"] as? Int == 3)
        #expect(object["public_key"] as? String == vector.public_key)
        #expect(object["key_config"] as? String == Data(try hex(vector.key_config)).base64EncodedString())
        #expect(object["tee_id"] as? String == "0x" + vector.tee_id)
        #expect(object["signature"] as? String == "3q0=")
        #expect(object["signature_hash"] as? String == "0x" + vector.hash)
        #expect(try JSONDecoder().decode(SignedOHTTPConfig.self, from: JSONEncoder().encode(signed)) == signed)
    }

    @Test(arguments: [
        ("kem_id", "16"), ("aead_id", "2"), ("key_id", "9"),
        ("public_key", "\"0303030303030303030303030303030303030303030303030303030303030303\""),
        ("signature_hash", "\"0x00\""), ("tee_id", "\"0x1234\""), ("key_config", "\"%%%\""),
    ])
    func decodingRejectsInconsistentFields(key: String, value: String) throws {
        let signed = try SignedOHTTPConfig(config: config, teeID: teeID, signature: [1])
        var object = try #require(
            try JSONSerialization.jsonObject(with: JSONEncoder().encode(signed)) as? [String: Any])
        object[key] = try JSONSerialization.jsonObject(with: Data(value.utf8), options: .fragmentsAllowed)
        let tampered = try JSONSerialization.data(withJSONObject: object)
        #expect(throws: DecodingError.self, "\(key)") {
            try JSONDecoder().decode(SignedOHTTPConfig.self, from: tampered)
        }
    }

    @Test func configDocumentFlattensTheX25519ConfigAndListsAll() throws {
        let keys = try OHTTPGatewayKeys.generate()
        let signed = try keys.configs.map { try SignedOHTTPConfig(config: $0, teeID: teeID, signature: [7]) }
        let document = try OHTTPConfigDocument(configs: signed)
        let json = try JSONEncoder().encode(document)
        let object = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any])
        #expect(object["kem_id"] as? Int == 0x20)
        #expect(object["key_id"] as? Int == Int(keys.configs[0].keyID))
        #expect((object["configs"] as? [[String: Any]])?.compactMap { $0["kem_id"] as? Int } == [0x20, 0x647A])
        #expect(try JSONDecoder().decode(OHTTPConfigDocument.self, from: json) == document)

        #expect(throws: OHTTPConfigError.missingX25519Config) { try OHTTPConfigDocument(configs: [signed[1]]) }
        var disagreeing = object
        disagreeing["configs"] = [try JSONSerialization.jsonObject(with: JSONEncoder().encode(signed[1]))]
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(
                OHTTPConfigDocument.self, from: JSONSerialization.data(withJSONObject: disagreeing))
        }
    }
}
