import Crypto
import EnclaveIPC
import Foundation
import GatewayContracts
import GatewayCore
import OHTTP
import Testing

@testable import KeyServiceKit

@Suite("KeyService secret injection")
struct InjectionTests {
    let operatorKey = Curve25519.Signing.PrivateKey()

    func envelope(
        _ secrets: [String: String],
        for service: KeyService,
        counter: UInt64,
        teeID: TEEID? = nil,
        signedBy key: Curve25519.Signing.PrivateKey? = nil
    ) async throws -> [UInt8] {
        try InjectionEnvelope.seal(
            secrets: secrets,
            to: try await x25519Config(of: service),
            counter: counter,
            teeID: teeID ?? service.teeID,
            operatorKey: key ?? operatorKey
        ).encoded()
    }

    func inject(_ service: KeyService, _ bytes: [UInt8]) async -> KeyServiceError.Code? {
        await errorCode { () async throws(KeyServiceError) in try await service.injectSecrets(envelope: bytes) }
    }

    @Test("a signed envelope sets secrets that only providerSecrets returns; rotation replaces by name")
    func accepted() async throws {
        let service = try makeKeyService(operatorKey: operatorKey)
        let first = try await service.injectSecrets(envelope: try await envelope(["openai_api_key": "sk-one", "xai_api_key": "xai-1"], for: service, counter: 1))
        #expect(first.providers == ["openai_api_key", "xai_api_key"])
        let rotated = try await service.injectSecrets(envelope: try await envelope(["openai_api_key": "sk-two"], for: service, counter: 5))
        #expect(rotated.providers == ["openai_api_key", "xai_api_key"])
        let secrets = try await service.providerSecrets()
        #expect(secrets.apiKeys == ["openai_api_key": "sk-two", "xai_api_key": "xai-1"])
        #expect(try await service.health().providers == ["openai_api_key", "xai_api_key"])
        #expect(!"\(secrets)".contains("sk-two"))
    }

    @Test("an envelope signed by another key is unauthorized and consumes no counter")
    func badSignature() async throws {
        let service = try makeKeyService(operatorKey: operatorKey)
        let forged = try await envelope(["openai_api_key": "sk-evil"], for: service, counter: 1, signedBy: Curve25519.Signing.PrivateKey())
        #expect(await inject(service, forged) == .unauthorized)
        var tampered = try InjectionEnvelope(parsing: try await envelope(["openai_api_key": "sk"], for: service, counter: 2))
        tampered = InjectionEnvelope(sealed: tampered.sealed, counter: 3, teeID: tampered.teeID, signature: tampered.signature)
        #expect(await inject(service, tampered.encoded()) == .unauthorized)
        #expect(try await service.providerSecrets().apiKeys.isEmpty)
        _ = try await service.injectSecrets(envelope: try await envelope(["openai_api_key": "sk"], for: service, counter: 1))
    }

    @Test("a counter not greater than the last accepted one is a replay")
    func replay() async throws {
        let service = try makeKeyService(operatorKey: operatorKey)
        let bytes = try await envelope(["openai_api_key": "sk-one"], for: service, counter: 7)
        _ = try await service.injectSecrets(envelope: bytes)
        #expect(await inject(service, bytes) == .replay)
        #expect(await inject(service, try await envelope(["openai_api_key": "sk-old"], for: service, counter: 6)) == .replay)
        #expect(await inject(service, try await envelope(["openai_api_key": "sk-zero"], for: service, counter: 0)) == .replay)
        #expect(try await service.providerSecrets().apiKeys == ["openai_api_key": "sk-one"])
    }

    @Test("an envelope made for another enclave boot is malformed")
    func wrongTEEID() async throws {
        let service = try makeKeyService(operatorKey: operatorKey)
        let other = try makeKeyService().teeID
        #expect(await inject(service, try await envelope(["openai_api_key": "sk"], for: service, counter: 1, teeID: other)) == .malformed)
    }

    @Test("malformed envelopes are refused with a message naming the problem", arguments: [
        ("not json", "not JSON"),
        (#"[1]"#, "must be a JSON object"),
        (#"{"sealed":"AA==","counter":1,"tee_id":"0x00","signature":"AA=="}"#, "tee_id"),
        (#"{"sealed":"AA==","counter":-1,"tee_id":"0x\#(String(repeating: "0", count: 64))","signature":"AA=="}"#, "counter"),
        (#"{"sealed":"AA==","counter":1.5,"tee_id":"0x\#(String(repeating: "0", count: 64))","signature":"AA=="}"#, "counter"),
        (#"{"sealed":"!!","counter":1,"tee_id":"0x\#(String(repeating: "0", count: 64))","signature":"AA=="}"#, "sealed"),
        (#"{"counter":1,"tee_id":"0x\#(String(repeating: "0", count: 64))","signature":"AA=="}"#, "no 'sealed'"),
        (#"{"sealed":"AA==","counter":1,"tee_id":"0x\#(String(repeating: "0", count: 64))","signature":"AA==","x":1}"#, "unknown field 'x'"),
    ])
    func malformed(json: String, mentions: String) async throws {
        let service = try makeKeyService(operatorKey: operatorKey)
        do {
            _ = try await service.injectSecrets(envelope: Array(json.utf8))
            Issue.record("accepted a malformed envelope")
        } catch {
            #expect(error.code == .malformed)
            #expect(error.message.contains(mentions), "\(error.message)")
        }
    }

    @Test("sealed plaintext that is not a JSON object of secrets is malformed and consumes no counter", arguments: [
        "sk-raw-key-not-json",
        #"["openai_api_key"]"#,
        #"{"openai_api_key": 5}"#,
        #"{"OpenAI Key": "sk"}"#,
        #"{"openai_api_key": ""}"#,
        "{}",
    ])
    func badPlaintext(plaintext: String) async throws {
        let service = try makeKeyService(operatorKey: operatorKey)
        let sealed = try OHTTPClient.encapsulate(request: Array(plaintext.utf8), config: try await x25519Config(of: service)).bytes
        let signature = try operatorKey.signature(for: InjectionEnvelope.signedMessage(sealed: sealed, counter: 1, teeID: service.teeID))
        let bytes = InjectionEnvelope(sealed: sealed, counter: 1, teeID: service.teeID, signature: Array(signature)).encoded()
        do {
            _ = try await service.injectSecrets(envelope: bytes)
            Issue.record("accepted bad plaintext")
        } catch {
            #expect(error.code == .malformed)
            #expect(!error.message.contains("sk-raw"))
        }
        _ = try await service.injectSecrets(envelope: try await envelope(["openai_api_key": "sk"], for: service, counter: 1))
    }

    @Test("without an operator key injection is forbidden")
    func disabled() async throws {
        let service = try makeKeyService()
        #expect(await inject(service, try await envelope(["openai_api_key": "sk"], for: service, counter: 1)) == .forbidden)
    }

    @Test("dev secrets come from the five documented environment variables only")
    func devEnvironment() async throws {
        let environment = [
            "OPENAI_API_KEY": "sk-o", "ANTHROPIC_API_KEY": "sk-a", "GOOGLE_API_KEY": "g", "XAI_API_KEY": "x",
            "ARK_API_KEY": "ark", "MISTRAL_API_KEY": "m", "PATH": "/bin",
        ]
        let secrets = ProviderSecretNames.fromEnvironment(environment)
        #expect(secrets == [
            "openai_api_key": "sk-o", "anthropic_api_key": "sk-a", "google_api_key": "g", "xai_api_key": "x",
            "bytedance_api_key": "ark",
        ])
        let service = try makeKeyService(initialSecrets: secrets)
        #expect(try await service.providerSecrets().apiKeys == secrets)
        #expect(ProviderSecretNames.fromEnvironment(["OPENAI_API_KEY": ""]).isEmpty)
    }

    @Test("operator keys parse from PEM and raw base64; other input names the problem")
    func operatorKeyParsing() throws {
        let key = Curve25519.Signing.PrivateKey().publicKey
        #expect(try OperatorKey(parsing: key.pemRepresentation).publicKey.rawRepresentation == key.rawRepresentation)
        #expect(try OperatorKey(parsing: key.rawRepresentation.base64EncodedString() + "\n").publicKey.rawRepresentation == key.rawRepresentation)
        #expect(throws: OperatorKeyError.wrongRawLength(31)) { try OperatorKey(parsing: Data(count: 31).base64EncodedString()) }
        #expect(throws: OperatorKeyError.notPEMOrBase64) { try OperatorKey(parsing: "not a key") }
    }
}
