import Attestation
import Crypto
import EnclaveIPC
import GatewayCore
import OHTTP
import Testing

@testable import KeyServiceKit

@Suite("KeyService OHTTP keys and attestation")
struct OHTTPAndAttestationTests {
    @Test("two configs, X25519 and X-Wing, with distinct key ids and consistent encodings")
    func configs() async throws {
        let service = try makeKeyService()
        let configs = try await service.ohttpConfigs()
        #expect(configs.map(\.kemID) == [HPKEKEM.x25519HKDFSHA256.rawValue, HPKEKEM.xWing.rawValue])
        #expect(Set(configs.map(\.keyID)).count == 2)
        for config in configs {
            let decoded = try KeyConfig(decoding: config.keyConfig)
            #expect(decoded.keyID == config.keyID)
            #expect(decoded.publicKey == config.publicKey)
            #expect(decoded.symmetricSuites == [KeyConfig.SymmetricSuite(kdfID: config.kdfID, aeadID: config.aeadID)])
        }
        #expect(try await makeKeyService().ohttpConfigs()[0].publicKey != configs[0].publicKey)
    }

    @Test("ohttpOpen returns the plaintext and the exporter secrets the client derived", arguments: [0, 1])
    func open(configIndex: Int) async throws {
        let service = try makeKeyService()
        let config = try KeyConfig(decoding: try await service.ohttpConfigs()[configIndex].keyConfig)
        let request = Array("inner request".utf8)
        let encapsulated = try OHTTPClient.encapsulate(request: request, config: config)
        let opened = try await service.ohttpOpen(encapsulatedRequest: encapsulated.bytes, chunked: false)
        #expect(opened.plaintext == request)
        #expect(opened.encapsulatedKey == encapsulated.responseContext.encapsulatedKey)
        #expect(opened.responseSecret == encapsulated.responseContext.responseSecret)
        #expect(opened.chunkedResponseSecret == encapsulated.responseContext.chunkedResponseSecret)
        #expect(opened.kdfID == encapsulated.responseContext.suite.kdf.rawValue)
        #expect(opened.aeadID == encapsulated.responseContext.suite.aead.rawValue)
        #expect(opened.kemID == encapsulated.responseContext.suite.kem.rawValue)
        #expect(!"\(opened)".contains("inner request"))
    }

    @Test("ohttpOpen opens a chunked request whole, and a chunked body is not a single-shot one", arguments: [0, 1])
    func openChunked(configIndex: Int) async throws {
        let service = try makeKeyService()
        let config = try KeyConfig(decoding: try await service.ohttpConfigs()[configIndex].keyConfig)
        let chunks = [Array("inner ".utf8), Array("chunked ".utf8), Array("request".utf8)]
        let encapsulated = try OHTTPClient.encapsulateChunked(chunks: chunks, config: config)
        let opened = try await service.ohttpOpen(encapsulatedRequest: encapsulated.bytes, chunked: true)
        #expect(opened.plaintext == Array("inner chunked request".utf8))
        #expect(opened.chunkedResponseSecret == encapsulated.responseContext.chunkedResponseSecret)
        #expect(
            await errorCode { () async throws(KeyServiceError) in
                try await service.ohttpOpen(encapsulatedRequest: encapsulated.bytes, chunked: false)
            } == .malformed)
        // Cutting the final chunk's marker or swapping chunk order fails as one generic error.
        var cut = encapsulated.bytes
        cut.removeLast(20)
        #expect(
            await errorCode { () async throws(KeyServiceError) in
                try await service.ohttpOpen(encapsulatedRequest: cut, chunked: true)
            } == .malformed)
    }

    @Test("unknown key ids and undecryptable requests are told apart, nothing more")
    func openFailures() async throws {
        let service = try makeKeyService()
        let configs = try await service.ohttpConfigs()
        let config = try KeyConfig(decoding: configs[0].keyConfig)
        var bytes = try OHTTPClient.encapsulate(request: [1, 2, 3], config: config).bytes
        let unknownKeyID = (UInt8.min...UInt8.max).first { id in !configs.contains { $0.keyID == id } }
        var unknown = bytes
        unknown[0] = try #require(unknownKeyID)
        #expect(await errorCode { () async throws(KeyServiceError) in try await service.ohttpOpen(encapsulatedRequest: unknown, chunked: false) } == .unknownKeyID)
        bytes[bytes.count - 1] ^= 0x01
        #expect(await errorCode { () async throws(KeyServiceError) in try await service.ohttpOpen(encapsulatedRequest: bytes, chunked: false) } == .malformed)
        #expect(await errorCode { () async throws(KeyServiceError) in try await service.ohttpOpen(encapsulatedRequest: [config.keyID], chunked: false) } == .malformed)
    }

    @Test("attest is notReady until tls-front registers its certificate")
    func attestBeforeRegistration() async throws {
        let service = try makeKeyService()
        let nonce = try AttestationNonce(Array(repeating: 7, count: 20))
        #expect(await errorCode { () async throws(KeyServiceError) in try await service.attest(nonce: nonce) } == .notReady)
        #expect(await errorCode { () async throws(KeyServiceError) in try await service.registerTLSCertificate(sha256: [1, 2, 3]) } == .malformed)
    }

    @Test("the document carries the nonce and user_data binding the TLS cert, signing key and OHTTP configs")
    func attest() async throws {
        let service = try makeKeyService()
        let certificateDER = Array("certificate DER".utf8)
        try await service.registerTLSCertificate(sha256: Array(SHA256.hash(data: certificateDER)))
        let nonceBytes = (0..<32).map { UInt8($0) }
        let document = try await service.attest(nonce: try AttestationNonce(nonceBytes))
        let payload = try AttestationDocument(decoding: try COSESign1(decoding: document).payload)
        #expect(payload.nonce == nonceBytes)
        let configs = try await service.ohttpConfigs().map { try KeyConfig(decoding: $0.keyConfig) }
        let expected = UserDataBinding(
            tlsCertificateDER: certificateDER,
            signingKeySPKIDER: try await service.publicKey().spkiDER,
            ohttpKeyConfigs: KeyConfig.encodeList(configs)
        )
        #expect(payload.userData == expected.encoded())
    }
}
