import Testing

@testable import OHTTP

@Suite struct KeyConfigTests {
    @Test func gatewayVectorEncodesAndDecodes() throws {
        let vector = try OHTTPVectors.load().gateway_key_config
        let config = try KeyConfig(
            keyID: vector.key_id, kem: try #require(HPKEKEM(rawValue: vector.kem_id)),
            publicKey: try hex(vector.public_key),
            symmetricSuites: [KeyConfig.SymmetricSuite(kdfID: vector.kdf_id, aeadID: vector.aead_id)])
        #expect(config.encoded == (try hex(vector.encoded)))
        #expect(config.encoded.count == 41)
        #expect(try KeyConfig(decoding: try hex(vector.encoded)) == config)
        #expect(config.supportedSuites == [.x25519ChaCha20Poly1305])
    }

    @Test func rfc9458ConfigListsTwoSuitesInOrder() throws {
        let config = try KeyConfig(decoding: try hex(try OHTTPVectors.load().rfc9458_appendix_a.key_config))
        #expect(config.keyID == 1)
        #expect(
            config.symmetricSuites == [
                .init(kdf: .hkdfSHA256, aead: .aes128GCM), .init(kdf: .hkdfSHA256, aead: .chaCha20Poly1305),
            ])
        #expect(config.supportedSuites.map(\.aead) == [.aes128GCM, .chaCha20Poly1305])
    }

    @Test func everyTruncationIsATypedError() throws {
        let encoded = try hex(try OHTTPVectors.load().rfc9458_appendix_a.key_config)
        for cut in 0..<encoded.count {
            #expect(throws: KeyConfigError.self) { try KeyConfig(decoding: Array(encoded[..<cut])) }
        }
        #expect(throws: KeyConfigError.truncated(Truncation(field: "public key", offset: 3, needed: 32, available: 3)))
        {
            try KeyConfig(decoding: Array(encoded[..<6]))
        }
    }

    @Test func malformedFieldsAreNamed() throws {
        let encoded = try hex(try OHTTPVectors.load().gateway_key_config.encoded)
        var unknownKEM = encoded
        unknownKEM[2] = 0x10
        #expect(throws: KeyConfigError.unsupportedKEM(0x0010, offset: 1)) { try KeyConfig(decoding: unknownKEM) }
        var oddSuites = encoded
        oddSuites[36] = 0x03
        #expect(throws: KeyConfigError.invalidSymmetricSuitesLength(3, offset: 35)) {
            try KeyConfig(decoding: oddSuites)
        }
        var noSuites = Array(encoded[..<35])
        noSuites += [0, 0]
        #expect(throws: KeyConfigError.invalidSymmetricSuitesLength(0, offset: 35)) {
            try KeyConfig(decoding: noSuites)
        }
        #expect(throws: KeyConfigError.trailingBytes(offset: 41, count: 1)) { try KeyConfig(decoding: encoded + [0]) }
        #expect(throws: KeyConfigError.wrongPublicKeyLength(kem: .xWing, expected: 1216, actual: 32)) {
            try KeyConfig(
                keyID: 1, kem: .xWing, publicKey: [UInt8](repeating: 2, count: 32),
                symmetricSuites: [.init(kdf: .hkdfSHA256, aead: .aes256GCM)])
        }
    }

    @Test func suiteCountKeepsEveryConfigListable() throws {
        let pk = [UInt8](repeating: 2, count: 32)
        #expect(throws: KeyConfigError.invalidSymmetricSuiteCount(0, maximum: 16374)) {
            try KeyConfig(keyID: 1, kem: .x25519HKDFSHA256, publicKey: pk, symmetricSuites: [])
        }
        let maximum = KeyConfig.maxSymmetricSuites(for: .xWing)
        let suite = KeyConfig.SymmetricSuite(kdf: .hkdfSHA256, aead: .aes256GCM)
        let xWingKey = [UInt8](repeating: 2, count: 1216)
        let largest = try KeyConfig(
            keyID: 1, kem: .xWing, publicKey: xWingKey, symmetricSuites: Array(repeating: suite, count: maximum))
        #expect(largest.encoded.count <= Int(UInt16.max))
        #expect(try KeyConfig.decodeList(KeyConfig.encodeList([largest])) == [largest])
        #expect(throws: KeyConfigError.invalidSymmetricSuiteCount(maximum + 1, maximum: maximum)) {
            try KeyConfig(
                keyID: 1, kem: .xWing, publicKey: xWingKey, symmetricSuites: Array(repeating: suite, count: maximum + 1))
        }
    }

    @Test func listRoundTripsAndSkipsUnknownKEMs() throws {
        let keys = try OHTTPGatewayKeys.generate()
        let list = keys.encodedConfigList
        #expect(try KeyConfig.decodeList(list) == keys.configs)
        #expect(list.count == 2 + 41 + 2 + 1 + 2 + 1216 + 2 + 4)

        let p256Config: [UInt8] = [9, 0x00, 0x10] + [UInt8](repeating: 4, count: 65) + [0, 4, 0, 1, 0, 1]
        let withUnknown = [0, UInt8(p256Config.count)] + p256Config + list
        #expect(try KeyConfig.decodeList(withUnknown) == keys.configs)
        #expect(throws: KeyConfigError.emptyList) {
            try KeyConfig.decodeList([0, UInt8(p256Config.count)] + p256Config)
        }
        #expect(throws: KeyConfigError.emptyList) { try KeyConfig.decodeList([]) }
    }

    @Test func listRejectsLengthPrefixesThatDisagreeWithTheConfig() throws {
        let config = try hex(try OHTTPVectors.load().gateway_key_config.encoded)
        #expect(throws: KeyConfigError.trailingBytes(offset: 43, count: 1)) {
            try KeyConfig.decodeList([0, 42] + config + [0])
        }
        #expect(throws: KeyConfigError.self) { try KeyConfig.decodeList([0, 40] + config) }
        let list = [0, 41] + config
        for cut in 0..<list.count {
            #expect(throws: KeyConfigError.self) { try KeyConfig.decodeList(Array(list[..<cut])) }
        }
    }
}
