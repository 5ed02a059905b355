import Testing

@testable import OHTTP

@Suite struct EncapsulationTests {
    static let allSuites: [HPKESuite] = HPKEKEM.allCases.flatMap { kem in
        HPKEAEAD.allCases.map { HPKESuite(kem: kem, kdf: .hkdfSHA256, aead: $0) }
    }

    @Test func generatedKeysHaveDistinctIDsAndPublishOnlyPublicConfigs() throws {
        let keys = try OHTTPGatewayKeys.generate()
        #expect(keys.configs.map { $0.supportedSuites } == [[.x25519ChaCha20Poly1305], [.xWingAES256GCM]])
        #expect(Set(keys.configs.map(\.keyID)).count == 2)
        #expect(keys.configs.map(\.publicKey.count) == [32, 1216])
        let other = try OHTTPGatewayKeys.generate()
        #expect(Set(keys.configs.map(\.publicKey)).isDisjoint(with: other.configs.map(\.publicKey)))
        #expect(throws: KeyGenerationError.invalidSuiteCount(0)) { try OHTTPGatewayKeys.generate(suites: []) }
    }

    @Test(arguments: allSuites)
    func roundTripsRequestAndBothResponseForms(suite: HPKESuite) throws {
        let gateway = try OHTTPGatewayKeys.generate(suites: [suite])
        let config = try #require(gateway.configs.first)
        let request = Array("{\"model\":\"local\",\"messages\":[]}".utf8)

        let encapsulated = try OHTTPClient.encapsulate(request: request, config: config)
        #expect(encapsulated.bytes.count == 7 + suite.kem.encapsulatedKeyLength + request.count + 16)
        let opened = try gateway.decapsulate(encapsulated.bytes)
        #expect(opened.plaintext == request)
        #expect(opened.responseContext.suite == suite)
        #expect(opened.responseContext.responseSecret == encapsulated.responseContext.responseSecret)
        #expect(opened.responseContext.chunkedResponseSecret == encapsulated.responseContext.chunkedResponseSecret)
        #expect(opened.responseContext.responseSecret != opened.responseContext.chunkedResponseSecret)

        let response = Array("{\"ok\":true}".utf8)
        let sealed = try opened.responseContext.sealResponse(response)
        #expect(sealed.count == suite.responseNonceLength + response.count + 16)
        #expect(try encapsulated.responseContext.openResponse(sealed) == response)

        var sealer = ChunkedResponseSealer(context: opened.responseContext)
        let wire = try sealer.seal(Array("data: 1\n\n".utf8)) + (try sealer.sealFinal(Array("data: [DONE]\n\n".utf8)))
        var opener = ChunkedResponseOpener(context: encapsulated.responseContext)
        #expect(try opener.feed(wire) == [Array("data: 1\n\n".utf8)])
        #expect(try opener.finish() == Array("data: [DONE]\n\n".utf8))
    }

    @Test func unknownKeyIDIsDistinguished() throws {
        let gateway = try OHTTPGatewayKeys.generate(suites: [.x25519ChaCha20Poly1305])
        let other = try OHTTPGatewayKeys.generate(suites: [.x25519ChaCha20Poly1305])
        let config = try #require(gateway.configs.first)
        var stale = try OHTTPClient.encapsulate(request: [1, 2, 3], config: config).bytes
        stale[0] = config.keyID &+ 1
        #expect(throws: DecapsulationError.unknownKeyID(config.keyID &+ 1)) { try gateway.decapsulate(stale) }

        // Same key id, different key (a gateway restart that happened to reuse the id).
        let restarted = try #require(other.configs.first)
        let sameID = try KeyConfig(
            keyID: config.keyID, kem: restarted.kem, publicKey: restarted.publicKey,
            symmetricSuites: restarted.symmetricSuites)
        let misdirected = try OHTTPClient.encapsulate(request: [1, 2, 3], config: sameID).bytes
        #expect(throws: DecapsulationError.decryptionFailed) { try gateway.decapsulate(misdirected) }
    }

    @Test func headerNamingAnotherSuiteIsUnsupported() throws {
        let gateway = try OHTTPGatewayKeys.generate()
        let x25519 = gateway.configs[0]
        var request = try OHTTPClient.encapsulate(request: [1], config: x25519).bytes
        request[6] = 0x02
        #expect(throws: DecapsulationError.unsupportedSuite(keyID: x25519.keyID, kemID: 0x20, kdfID: 1, aeadID: 2)) {
            try gateway.decapsulate(request)
        }
        request[6] = 0x03
        request[2] = 0x7A
        request[1] = 0x64
        #expect(throws: DecapsulationError.unsupportedSuite(keyID: x25519.keyID, kemID: 0x647A, kdfID: 1, aeadID: 3)) {
            try gateway.decapsulate(request)
        }
    }

    @Test(arguments: OHTTPGatewayKeys.shippedSuites)
    func everyTruncationIsMalformedOrUndecryptable(suite: HPKESuite) throws {
        let gateway = try OHTTPGatewayKeys.generate(suites: [suite])
        let request = try OHTTPClient.encapsulate(request: Array("hello".utf8), config: gateway.configs[0]).bytes
        let minimum = 7 + suite.kem.encapsulatedKeyLength + 16
        for cut in 0..<request.count {
            let prefix = Array(request[..<cut])
            if cut < minimum {
                #expect(isTruncated(gateway, prefix), "cut at \(cut)")
            } else {
                #expect(throws: DecapsulationError.decryptionFailed, "cut at \(cut)") {
                    try gateway.decapsulate(prefix)
                }
            }
        }
    }

    @Test(arguments: OHTTPGatewayKeys.shippedSuites)
    func tamperingAnyByteIsATypedError(suite: HPKESuite) throws {
        let gateway = try OHTTPGatewayKeys.generate(suites: [suite])
        let request = try OHTTPClient.encapsulate(request: Array("hello".utf8), config: gateway.configs[0]).bytes
        for index in request.indices {
            var tampered = request
            tampered[index] ^= 0x01
            let expected: DecapsulationError =
                switch index {
                case 0: .unknownKeyID(tampered[0])
                case 1..<7:
                    .unsupportedSuite(
                        keyID: tampered[0], kemID: UInt16(tampered[1]) << 8 | UInt16(tampered[2]),
                        kdfID: UInt16(tampered[3]) << 8 | UInt16(tampered[4]),
                        aeadID: UInt16(tampered[5]) << 8 | UInt16(tampered[6]))
                default: .decryptionFailed
                }
            #expect(throws: expected, "byte \(index)") { try gateway.decapsulate(tampered) }
        }
    }

    @Test func decryptionFailureSaysNothingSpecific() {
        #expect(DecapsulationError.decryptionFailed.description == "encapsulated request could not be decrypted")
    }

    @Test func clientRefusesConfigsItCannotUse() throws {
        let unsupported = try KeyConfig(
            keyID: 7, kem: .x25519HKDFSHA256, publicKey: [UInt8](repeating: 9, count: 32),
            symmetricSuites: [.init(kdfID: 0x0002, aeadID: 0x0001)])
        #expect(throws: EncapsulationError.noSupportedSuite(keyID: 7, offered: unsupported.symmetricSuites)) {
            try OHTTPClient.encapsulate(request: [], config: unsupported)
        }
        let lowOrder = try KeyConfig(
            keyID: 7, kem: .x25519HKDFSHA256, publicKey: [UInt8](repeating: 0, count: 32),
            symmetricSuites: [.init(kdf: .hkdfSHA256, aead: .chaCha20Poly1305)])
        #expect(
            throws: EncapsulationError.hpkeSetupFailed(
                keyID: 7, suite: .x25519ChaCha20Poly1305, reason: String(describing: X25519PointCheck.SmallOrderPoint())
            )
        ) { try OHTTPClient.encapsulate(request: [], config: lowOrder) }
    }

    /// RFC 9180 §7.1.4: small-order X25519 points give an all-zero shared secret and must be
    /// refused; swift-crypto does not, so the module checks both published keys and `enc`.
    @Test func smallOrderX25519PointsAreRejectedOnBothSides() throws {
        let smallOrder = [
            String(repeating: "00", count: 32),
            "01" + String(repeating: "00", count: 31),
            "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
            "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
            "ec" + String(repeating: "ff", count: 30) + "7f",
            "ed" + String(repeating: "ff", count: 30) + "7f",
        ]
        for point in smallOrder {
            #expect(throws: X25519PointCheck.SmallOrderPoint.self, "\(point)") {
                try X25519PointCheck.rejectSmallOrder(try hex(point))
            }
        }
        let gateway = try OHTTPGatewayKeys.generate(suites: [.x25519ChaCha20Poly1305])
        try X25519PointCheck.rejectSmallOrder(gateway.configs[0].publicKey)
        let zeroEnc = gateway.configs[0].encoded[..<1] + [0, 0x20, 0, 1, 0, 3] + [UInt8](repeating: 0, count: 48)
        #expect(throws: DecapsulationError.decryptionFailed) { try gateway.decapsulate(Array(zeroEnc)) }
    }

    @Test func responsesAreBoundToTheirRequest() throws {
        let gateway = try OHTTPGatewayKeys.generate()
        let first = try OHTTPClient.encapsulate(request: [1], config: gateway.configs[1])
        let second = try OHTTPClient.encapsulate(request: [2], config: gateway.configs[1])
        let sealed = try gateway.decapsulate(first.bytes).responseContext.sealResponse([42])
        #expect(throws: ResponseError.authenticationFailed(chunk: nil)) {
            try second.responseContext.openResponse(sealed)
        }
    }
}

/// True when decapsulating `request` throws `DecapsulationError.truncated`.
private func isTruncated(_ gateway: OHTTPGatewayKeys, _ request: [UInt8]) -> Bool {
    do {
        _ = try gateway.decapsulate(request)
        return false
    } catch .truncated {
        return true
    } catch {
        return false
    }
}
