import Foundation
import GatewayCore
import Testing
import _CryptoExtras

@testable import KeyServiceKit

/// key-service signs with OpenSSL 3 (faster on our hardware) or swift-crypto's BoringSSL; the
/// contract is one scheme, so each library must verify the other's signatures, and both the
/// shared vector.
@Suite("RSA signer backends")
struct SignerBackendTests {
    private static func randomHashes(_ count: Int) -> [Keccak256Digest] {
        (0..<count).map { index in Keccak256.hash(Array("message \(index) \(UInt64.random(in: 0...UInt64.max))".utf8)) }
    }

    @Test func openSSLSignaturesVerifyWithSwiftCryptoAndOpenSSL() throws {
        let key = try OpenSSLSigningKey.generate()
        #expect(key.publicKey.spkiDER.count == 294, "RSA-2048 SPKI")
        #expect(Array(key.publicKey.spkiDER.suffix(5)) == [0x02, 0x03, 0x01, 0x00, 0x01], "e = 65537")
        for hash in Self.randomHashes(20) {
            let signature = try key.sign(messageHash: hash)
            #expect(signature.count == 256)
            #expect(key.publicKey.isValidSignature(signature, messageHash: hash), "swift-crypto rejects an OpenSSL signature")
            #expect(OpenSSLPSSVerifier.isValid(signature, messageHash: hash, spkiDER: key.publicKey.spkiDER))
        }
    }

    @Test func swiftCryptoSignaturesVerifyWithOpenSSL() throws {
        let key = try InferenceSigningKey.generate()
        for hash in Self.randomHashes(20) {
            let signature = try key.sign(messageHash: hash)
            #expect(OpenSSLPSSVerifier.isValid(signature, messageHash: hash, spkiDER: key.publicKey.spkiDER), "OpenSSL rejects a BoringSSL signature")
        }
    }

    @Test func theSameKeyLoadedInBothLibrariesSignsInterchangeably() throws {
        let pem = try _RSA.Signing.PrivateKey(keySize: .bits2048).pemRepresentation
        let boring = try InferenceSigningKey(pemRepresentation: pem)
        let openSSL = try OpenSSLSigningKey(pemRepresentation: pem)
        #expect(openSSL.publicKey.spkiDER == boring.publicKey.spkiDER)
        #expect(openSSL.teeID == boring.teeID)
        let hash = Keccak256.hash(Array("interchangeable".utf8))
        #expect(boring.publicKey.isValidSignature(try openSSL.sign(messageHash: hash), messageHash: hash))
        #expect(OpenSSLPSSVerifier.isValid(try boring.sign(messageHash: hash), messageHash: hash, spkiDER: openSSL.publicKey.spkiDER))
    }

    /// The shared vector (made by Python's `cryptography`, an independent implementation).
    @Test func openSSLVerifiesTheSharedVectorAndRejectsAFlippedBit() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Vectors/signing-vectors.json")
        let vectors = try JSONParser().parse(Array(try Data(contentsOf: url)))
        let vector = try #require(vectors["rsa_pss_verify"])
        let pem = try #require(vector["public_key_pem"]?.stringValue)
        let hashHex = try #require(vector["message_hash"]?.stringValue)
        let signatureBase64 = try #require(vector["signature"]?.stringValue)
        let key = try InferenceVerifyingKey(pem: pem)
        let hash = try #require(Keccak256Digest(hex: hashHex))
        var signature = Array(try #require(Data(base64Encoded: signatureBase64)))
        #expect(OpenSSLPSSVerifier.isValid(signature, messageHash: hash, spkiDER: key.spkiDER))
        signature[17] ^= 0x01
        #expect(!OpenSSLPSSVerifier.isValid(signature, messageHash: hash, spkiDER: key.spkiDER))
    }

    @Test func keyServiceSignsWithEitherBackend() async throws {
        for backend in SignerBackend.allCases {
            let service = try makeKeyService(signer: backend)
            let info = try await service.publicKey()
            let key = try InferenceVerifyingKey(spkiDER: info.spkiDER)
            let signature = try await service.signInference(requestHash: OutputHash.text("r"), outputHash: OutputHash.text("o"))
            #expect(key.verify(signature) == .valid, "\(backend)")
        }
    }

    @Test func aNonRSAOrMalformedKeyIsRefusedWithTheReason() throws {
        #expect { try OpenSSLSigningKey(pemRepresentation: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n") } throws: { error in
            "\(error)".contains("PEM_read_bio_PrivateKey")
        }
        // An Ed25519 key is a valid private key but not RSA.
        let ed25519 = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIHm5aj4O6zYQFmFZbbVL5xVWF1sShRnFs1ZfvUDZ1AOE\n-----END PRIVATE KEY-----\n"
        #expect { try OpenSSLSigningKey(pemRepresentation: ed25519) } throws: { error in
            "\(error)".contains("not an RSA key")
        }
    }
}
