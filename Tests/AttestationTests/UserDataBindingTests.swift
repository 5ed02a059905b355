import Attestation
import Crypto
import Testing

@Suite struct UserDataBindingTests {
    let tls = Array("tls certificate DER".utf8), key = Array("signing key SPKI".utf8), ohttp = Array("ohttp keys".utf8)

    @Test func buildsThreeSHA256Multihashes() {
        let bytes = UserDataBinding(tlsCertificateDER: tls, signingKeySPKIDER: key, ohttpKeyConfigs: ohttp).encoded()
        #expect(bytes.count == 102)
        for (index, input) in [tls, key, ohttp].enumerated() {
            let entry = Array(bytes[index * 34..<(index + 1) * 34])
            #expect(entry == [0x12, 0x20] + Array(SHA256.hash(data: input)))
        }
    }

    @Test func parsesWhatItBuilds() throws {
        let binding = UserDataBinding(tlsCertificateDER: tls, signingKeySPKIDER: key, ohttpKeyConfigs: ohttp)
        let parsed = try UserDataBinding(parsing: binding.encoded())
        #expect(parsed == binding)
        #expect(parsed.hash(of: .ohttpKeys) == Array(SHA256.hash(data: ohttp)))
    }

    /// The debug-mode Eternis document carries a real nitriding-style two-entry user_data.
    @Test func parsesARealTwoEntryNitridingValue() throws {
        let document = try RealDocument(name: "eternis-debug-2024-09-09")
        let userData = try #require(try document.optionalField("user_data"))
        let parsed = try UserDataBinding(parsing: userData)
        #expect(parsed.hashes.count == 2)
        #expect(parsed.hash(of: .tlsCertificate) == Array(userData[2..<34]))
        #expect(parsed.hash(of: .signingKey) == Array(userData[36..<68]))
        #expect(parsed.hash(of: .ohttpKeys) == nil)
    }

    @Test func rejectsOtherShapes() {
        let valid = UserDataBinding(tlsCertificateDER: tls, signingKeySPKIDER: key, ohttpKeyConfigs: ohttp).encoded()
        for size in [0, 33, 34, 67, 101, 136] {
            #expect(throws: UserDataBindingError.wrongSize(size)) {
                try UserDataBinding(parsing: Array((valid + valid)[..<size]))
            }
        }
        var sha512 = valid
        sha512[34] = 0x13
        #expect(throws: UserDataBindingError.notSHA256Multihash(entry: 1, offset: 34, prefix: "1320")) {
            try UserDataBinding(parsing: sha512)
        }
    }

    @Test func verifierChecksEachPresentedValue() async throws {
        let authority = try DevCertificateAuthority()
        let verifier = AttestationVerifier(
            trustAnchors: try TrustAnchors.awsNitro(plusDevRootPEM: try authority.rootPEM()))
        let nsm = try SimulatedNSM(authority: authority)
        let binding = UserDataBinding(tlsCertificateDER: tls, signingKeySPKIDER: key, ohttpKeyConfigs: ohttp)
        let bytes = try nsm.attest(nonce: nil, userData: binding.encoded(), publicKey: nil)

        let otherTLS = Array("another certificate".utf8)
        let mismatch = await verifier.verify(
            bytes, expecting: .init(tlsCertificateDER: otherTLS, signingKeySPKIDER: key))
        #expect(
            mismatch.failures == [
                .bindingMismatch(
                    .tlsCertificate, expected: Array(SHA256.hash(data: otherTLS)), got: Array(SHA256.hash(data: tls)))
            ])
        #expect("\(mismatch.failures[0])".hasPrefix("user_data: TLS certificate mismatch: expected sha256 "))
        #expect(mismatch.status(of: .binding(.signingKey)) != nil)
        #expect(mismatch.status(of: .binding(.ohttpKeys)) == .skipped("not presented by the server"))

        let twoEntries = try nsm.attest(nonce: nil, userData: Array(binding.encoded()[..<68]), publicKey: nil)
        let missingEntry = await verifier.verify(twoEntries, expecting: .init(ohttpKeyConfigs: ohttp))
        #expect(missingEntry.failures == [.bindingEntryMissing(.ohttpKeys)])

        let unbound = try nsm.attest(nonce: nil, userData: nil, publicKey: nil)
        #expect(await verifier.verify(unbound, expecting: .init(signingKeySPKIDER: key)).failures == [.userDataMissing])

        let notABinding = try nsm.attest(nonce: nil, userData: Array("{\"job\": 1}".utf8), publicKey: nil)
        #expect(
            await verifier.verify(notABinding, expecting: .init(signingKeySPKIDER: key)).failures == [
                .userData(.wrongSize(10))
            ])
    }
}
