import Crypto
import EnclaveIPC
import GatewayCore
import OHTTP
import Testing

@testable import KeyServiceKit

@Suite("KeyService signing")
struct SigningTests {
    @Test("the public key is RSA-2048 with e = 65537 and tee_id = keccak(SPKI)")
    func publicKey() async throws {
        let service = try makeKeyService()
        let info = try await service.publicKey()
        let verifying = try InferenceVerifyingKey(spkiDER: info.spkiDER)
        #expect(info.teeID == TEEID(spkiDER: info.spkiDER))
        #expect(verifying.teeID == info.teeID)
        #expect(try InferenceVerifyingKey(pem: info.pem).spkiDER == info.spkiDER)
        // SPKI of RSA-2048: the modulus is 257 DER bytes and the exponent INTEGER 65537 ends it.
        #expect(info.spkiDER.count == 294)
        #expect(Array(info.spkiDER.suffix(5)) == [0x02, 0x03, 0x01, 0x00, 0x01])
    }

    @Test("every boot has a new signing key")
    func freshPerBoot() async throws {
        let first = try await makeKeyService().publicKey()
        let second = try await makeKeyService().publicKey()
        #expect(first.teeID != second.teeID)
    }

    @Test("signInference uses the key service's clock and verifies with the public key")
    func signInference() async throws {
        let service = try makeKeyService()
        let requestHash = OutputHash.text("request")
        let outputHash = OutputHash.text("Hello! How can I help?")
        let signature = try await service.signInference(requestHash: requestHash, outputHash: outputHash)
        #expect(signature.timestamp == testNow)
        #expect(signature.requestHash == requestHash)
        #expect(signature.outputHash == outputHash)
        let key = try InferenceVerifyingKey(spkiDER: try await service.publicKey().spkiDER)
        #expect(key.verify(signature) == .valid)
        var tampered = signature
        tampered.timestamp += 1
        #expect(key.verify(tampered) == .badSignature)
    }

    @Test("heartbeats are signed up to now and refused when dated in the future")
    func heartbeat() async throws {
        let service = try makeKeyService()
        let key = try InferenceVerifyingKey(spkiDER: try await service.publicKey().spkiDER)
        let record = try await service.signRecord(.heartbeat(timestamp: testNow))
        #expect(record.messageHash == SignedMessage.heartbeat(teeID: service.teeID, timestamp: testNow))
        #expect(key.isValidSignature(record.signature, messageHash: record.messageHash))
        #expect(await errorCode { () async throws(KeyServiceError) in try await service.signRecord(.heartbeat(timestamp: testNow + 1)) } == .malformed)
    }

    @Test("OHTTP config records are signed only for the key service's own configs")
    func ohttpConfigRecord() async throws {
        let service = try makeKeyService()
        let key = try InferenceVerifyingKey(spkiDER: try await service.publicKey().spkiDER)
        for config in try await service.ohttpConfigs() {
            let record = try await service.signRecord(.ohttpConfig(config))
            let expected = try OHTTPConfigHash.compute(teeID: service.teeID.digest.bytes, config: try KeyConfig(decoding: config.keyConfig))
            #expect(record.messageHash == expected)
            #expect(key.isValidSignature(record.signature, messageHash: record.messageHash))
            // The upstream JSON shape built from the signature decodes and re-checks the hash.
            let signed = try SignedOHTTPConfig(config: try KeyConfig(decoding: config.keyConfig), teeID: service.teeID.digest.bytes, signature: record.signature)
            #expect(signed.configHash == record.messageHash)
        }
        let foreign = try await makeKeyService().ohttpConfigs()[0]
        #expect(await errorCode { () async throws(KeyServiceError) in try await service.signRecord(.ohttpConfig(foreign)) } == .malformed)
    }
}
