import Foundation
import GatewayCore
import NIOCore
import Testing

@testable import EnclaveIPC

@Suite("Key-service message codec")
struct ProtocolCodecTests {
    static func sampleRequests() throws -> [KeyServiceRequest] {
        [
            .publicKey,
            .signInference(requestHash: try digest(0x01), outputHash: try digest(0x02)),
            .signRecord(.heartbeat(timestamp: 1_714_000_000)),
            .signRecord(.ohttpConfig(OHTTPKeyConfig(
                keyID: 7, kemID: 0x647A, kdfID: 1, aeadID: 3, publicKey: randomBytes(1216), keyConfig: randomBytes(1227)
            ))),
            .attest(nonce: try AttestationNonce(randomBytes(20))),
            .attest(nonce: try AttestationNonce(randomBytes(64))),
            .ohttpConfigs,
            .ohttpOpen(encapsulatedRequest: randomBytes(512 * 1024), chunked: false),
            .ohttpOpen(encapsulatedRequest: randomBytes(100), chunked: true),
            .providerSecrets,
            .injectSecrets(envelope: randomBytes(300)),
            .registerTLSCertificate(sha256: try digest(0x03).bytes),
            .health,
            .ready,
        ]
    }

    static func sampleResponses() throws -> [KeyServiceResponse] {
        [
            .publicKey(PublicKeyInfo(spkiDER: randomBytes(294), pem: "-----BEGIN PUBLIC KEY-----\nAA==\n-----END PUBLIC KEY-----\n", teeID: try makeTEEID(9))),
            .signInference(TEESignature(
                requestHash: try digest(1), outputHash: try digest(2), timestamp: UInt64.max,
                signature: randomBytes(256), teeID: try makeTEEID(3)
            )),
            .signRecord(RecordSignature(messageHash: try digest(4), signature: randomBytes(256))),
            .attest(document: randomBytes(4500)),
            .ohttpConfigs([
                OHTTPKeyConfig(keyID: 1, kemID: 0x20, kdfID: 1, aeadID: 3, publicKey: randomBytes(32), keyConfig: randomBytes(41)),
                OHTTPKeyConfig(keyID: 2, kemID: 0x647A, kdfID: 1, aeadID: 2, publicKey: randomBytes(1216), keyConfig: randomBytes(1225)),
            ]),
            .ohttpConfigs([]),
            .ohttpOpen(OpenedOHTTPRequest(
                plaintext: randomBytes(1000), encapsulatedKey: randomBytes(32), kemID: 0x20, kdfID: 1, aeadID: 3,
                responseSecret: randomBytes(32), chunkedResponseSecret: randomBytes(32)
            )),
            .ohttpOpen(OpenedOHTTPRequest(
                plaintext: [], encapsulatedKey: randomBytes(1120), kemID: 0x647A, kdfID: 1, aeadID: 2,
                responseSecret: randomBytes(16), chunkedResponseSecret: randomBytes(16)
            )),
            .providerSecrets(ProviderSecrets(apiKeys: ["openai": "sk-1", "x_ai-2": "k"])),
            .injectSecrets(InjectedSecrets(providers: ["anthropic", "openai"])),
            .registerTLSCertificate,
            .health(KeyServiceHealth(teeID: try makeTEEID(5), teeEnabled: true, providers: [], uptimeSeconds: 12)),
            .ready(false),
            .ready(true),
        ] + KeyServiceError.Code.allCases.map { .failure(KeyServiceError($0, "because \($0)")) }
    }

    @Test("every request round-trips and carries its operation as type")
    func requestRoundTrip() throws {
        let requests = try Self.sampleRequests()
        #expect(Set(requests.map(\.operation)) == Set(KeyServiceOperation.allCases))
        for (index, request) in requests.enumerated() {
            let id = UInt64(index + 1) << 40
            let frame = try KeyServiceCodec.encode(request, id: id)
            let decoded = try KeyServiceCodec.decodeRequest(frame)
            #expect(decoded.id == id)
            #expect(decoded.request == request)
            let object = try #require(try JSONSerialization.jsonObject(with: Data(frame.readableBytesView)) as? [String: Any])
            #expect(object["type"] as? String == request.operation.rawValue)
        }
    }

    @Test("every response round-trips; successes are typed by operation, failures by 'error'")
    func responseRoundTrip() throws {
        let responses = try Self.sampleResponses()
        let successTypes = Set(responses.compactMap { KeyServiceOperation(rawValue: $0.type) })
        #expect(successTypes == Set(KeyServiceOperation.allCases))
        for response in responses {
            let frame = try KeyServiceCodec.encode(response, id: 99)
            let decoded = try KeyServiceCodec.decodeResponse(frame)
            #expect(decoded.id == 99)
            #expect(decoded.response == response)
        }
    }

    @Test("binary fields are padded base64 and the layout is the documented one")
    func wireLayout() throws {
        let request = KeyServiceRequest.signInference(requestHash: try digest(0xFF), outputHash: try digest(0x00))
        let text = String(buffer: try KeyServiceCodec.encode(request, id: 7))
        let expectedHash = Data(repeating: 0xFF, count: 32).base64EncodedString()
        #expect(text == #"{"id":7,"outputHash":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","requestHash":"\#(expectedHash)","type":"signInference"}"#)

        let failure = String(buffer: try KeyServiceCodec.encode(.failure(KeyServiceError(.replay, "counter reused")), id: 8))
        #expect(failure == #"{"code":"replay","id":8,"message":"counter reused","type":"error"}"#)
    }

    // MARK: - Malformed requests

    private func requestProblem(_ json: String) -> KeyServiceProtocolError? {
        do {
            _ = try KeyServiceCodec.decodeRequest(ByteBuffer(string: json))
            return nil
        } catch {
            return error
        }
    }

    private static let hash32 = Data(repeating: 1, count: 32).base64EncodedString()
    private static let hash31 = Data(repeating: 1, count: 31).base64EncodedString()

    @Test(
        "malformed requests are refused with the field and id named",
        arguments: [
            (#"{"id":1,"type":"bogus"}"#, KeyServiceProtocolError(id: 1, .unknownType("bogus"))),
            (#"{"id":2,"type":"publicKey","extra":1}"#, KeyServiceProtocolError(id: 2, .unknownField("extra"))),
            (#"{"id":3,"type":"signInference","requestHash":"\#(hash32)"}"#, KeyServiceProtocolError(id: 3, .missingField("outputHash"))),
            (
                #"{"id":4,"type":"signInference","requestHash":"\#(hash31)","outputHash":"\#(hash32)"}"#,
                KeyServiceProtocolError(id: 4, .invalidLength(field: "requestHash", expected: 32...32, actual: 31))
            ),
            (
                #"{"id":5,"type":"signInference","requestHash":12,"outputHash":"\#(hash32)"}"#,
                KeyServiceProtocolError(id: 5, .wrongType(field: "requestHash", expected: "a base64 string"))
            ),
            (
                #"{"id":6,"type":"signInference","requestHash":"not base64!","outputHash":"\#(hash32)"}"#,
                KeyServiceProtocolError(id: 6, .invalidBase64(field: "requestHash"))
            ),
            (
                #"{"id":7,"type":"attest","nonce":"\#(Data(count: 19).base64EncodedString())"}"#,
                KeyServiceProtocolError(id: 7, .invalidLength(field: "nonce", expected: 20...64, actual: 19))
            ),
            (
                #"{"id":8,"type":"attest","nonce":"\#(Data(count: 65).base64EncodedString())"}"#,
                KeyServiceProtocolError(id: 8, .invalidLength(field: "nonce", expected: 20...64, actual: 65))
            ),
            (
                #"{"id":9,"type":"signRecord","domain":"rawBytes","bytes":"AA=="}"#,
                KeyServiceProtocolError(id: 9, .invalidValue(field: "domain", reason: "unknown record domain 'rawBytes'"))
            ),
            (
                #"{"id":10,"type":"signRecord","domain":"heartbeat","timestamp":-5}"#,
                KeyServiceProtocolError(id: 10, .wrongType(field: "timestamp", expected: "an integer from 0 to 18446744073709551615"))
            ),
            (
                #"{"id":11,"type":"signRecord","domain":"heartbeat","timestamp":1,"keyID":1}"#,
                KeyServiceProtocolError(id: 11, .unknownField("keyID"))
            ),
            (#"{"id":12,"type":"injectSecrets","envelope":""}"#, KeyServiceProtocolError(id: 12, .invalidLength(field: "envelope", expected: 1...65536, actual: 0))),
            (#"{"id":13,"type":"ohttpOpen","encapsulatedRequest":null,"chunked":false}"#, KeyServiceProtocolError(id: 13, .wrongType(field: "encapsulatedRequest", expected: "a base64 string"))),
            (#"{"id":14,"type":7}"#, KeyServiceProtocolError(id: 14, .wrongType(field: "type", expected: "a string"))),
            (#"{"id":0,"type":"publicKey"}"#, KeyServiceProtocolError(.invalidValue(field: "id", reason: "0 is reserved for errors about unreadable requests"))),
            (#"{"id":"1","type":"publicKey"}"#, KeyServiceProtocolError(.wrongType(field: "id", expected: "an integer from 0 to 18446744073709551615"))),
            (#"{"type":"publicKey"}"#, KeyServiceProtocolError(.missingField("id"))),
            (#"[1,2]"#, KeyServiceProtocolError(.notAnObject)),
        ]
    )
    func malformedRequests(json: String, expected: KeyServiceProtocolError) {
        #expect(requestProblem(json) == expected)
    }

    @Test("text that is not JSON is refused without an id")
    func notJSON() {
        for text in ["", "not json", #"{"id":1,"type":"publicKey""#, "\u{0}\u{1}"] {
            let problem = requestProblem(text)
            guard case .notJSON? = problem?.problem else {
                Issue.record("expected notJSON for \(text.debugDescription), got \(String(describing: problem))")
                continue
            }
            #expect(problem?.id == nil)
        }
    }

    @Test("an OHTTP request above 512 KiB is refused")
    func oversizedEncapsulatedRequest() throws {
        let body = Data(count: 512 * 1024 + 1).base64EncodedString()
        #expect(
            requestProblem(#"{"id":1,"type":"ohttpOpen","encapsulatedRequest":"\#(body)","chunked":false}"#)
                == KeyServiceProtocolError(id: 1, .invalidLength(field: "encapsulatedRequest", expected: 1...(512 * 1024), actual: 512 * 1024 + 1))
        )
    }

    // MARK: - Malformed responses

    private func responseProblem(_ json: String) -> KeyServiceProtocolError? {
        do {
            _ = try KeyServiceCodec.decodeResponse(ByteBuffer(string: json))
            return nil
        } catch {
            return error
        }
    }

    @Test(
        "malformed responses are refused",
        arguments: [
            (#"{"id":1,"type":"error","code":"teapot","message":"x"}"#, KeyServiceProtocolError(id: 1, .invalidValue(field: "code", reason: "unknown error code 'teapot'"))),
            (#"{"id":2,"type":"ready","ready":"yes"}"#, KeyServiceProtocolError(id: 2, .wrongType(field: "ready", expected: "true or false"))),
            (#"{"id":3,"type":"providerSecrets","apiKeys":{"OpenAI":"k"}}"#, KeyServiceProtocolError(id: 3, .invalidValue(field: "apiKeys", reason: "provider name must be 1-64 characters of a-z, 0-9, '-' or '_'"))),
            (#"{"id":4,"type":"providerSecrets","apiKeys":{"openai":""}}"#, KeyServiceProtocolError(id: 4, .invalidLength(field: "apiKeys.openai", expected: 1...4096, actual: 0))),
            (#"{"id":5,"type":"providerSecrets","apiKeys":{"openai":5}}"#, KeyServiceProtocolError(id: 5, .wrongType(field: "apiKeys", expected: "an object of string values"))),
            (#"{"id":6,"type":"ohttpConfigs","configs":[{"keyID":300,"kemID":32,"kdfID":1,"aeadID":3,"publicKey":"AA==","keyConfig":"AA=="}]}"#, KeyServiceProtocolError(id: 6, .wrongType(field: "keyID", expected: "an integer from 0 to 255"))),
            (#"{"id":7,"type":"ohttpConfigs","configs":[{"keyID":1}]}"#, KeyServiceProtocolError(id: 7, .missingField("kemID"))),
            (#"{"id":8,"type":"ohttpConfigs","configs":{}}"#, KeyServiceProtocolError(id: 8, .wrongType(field: "configs", expected: "an array of objects"))),
            (#"{"id":9,"type":"health","teeID":"AA==","teeEnabled":true,"providers":[],"uptimeSeconds":1}"#, KeyServiceProtocolError(id: 9, .invalidLength(field: "teeID", expected: 32...32, actual: 1))),
            (#"{"id":10,"type":"registerTLSCertificate","ok":true}"#, KeyServiceProtocolError(id: 10, .unknownField("ok"))),
            (#"{"id":11,"type":"signRecord","signature":"AA=="}"#, KeyServiceProtocolError(id: 11, .missingField("messageHash"))),
            (#"{"id":12,"type":"attest","document":"AA=="}"#, nil),
            (#"{"id":0,"type":"error","code":"malformed","message":"unreadable"}"#, nil),
        ]
    )
    func malformedResponses(json: String, expected: KeyServiceProtocolError?) {
        #expect(responseProblem(json) == expected)
    }

    @Test("the ohttpConfigs list is capped")
    func configCountLimit() {
        let config = #"{"keyID":1,"kemID":32,"kdfID":1,"aeadID":3,"publicKey":"AA==","keyConfig":"AA=="}"#
        let json = #"{"id":1,"type":"ohttpConfigs","configs":[\#(Array(repeating: config, count: 17).joined(separator: ","))]}"#
        #expect(responseProblem(json) == KeyServiceProtocolError(id: 1, .invalidValue(field: "configs", reason: "more than 16 entries")))
    }

    // MARK: - Values

    @Test("nonces check their length at construction; certificate hashes on decode")
    func valueTypes() throws {
        #expect(throws: KeyServiceProtocolError(.invalidLength(field: "nonce", expected: 20...64, actual: 0))) {
            try AttestationNonce([])
        }
        let short = Data(count: 31).base64EncodedString()
        #expect(
            requestProblem(#"{"id":3,"type":"registerTLSCertificate","sha256":"\#(short)"}"#)
                == KeyServiceProtocolError(id: 3, .invalidLength(field: "sha256", expected: 32...32, actual: 31))
        )
        #expect(try makeTEEID(0xAB).description == "0x" + String(repeating: "ab", count: 32))
    }

    @Test("secret-bearing values redact themselves in descriptions")
    func redaction() {
        let secrets = ProviderSecrets(apiKeys: ["openai": "sk-very-secret"])
        #expect(!"\(secrets)".contains("sk-very-secret"))
        #expect("\(secrets)".contains("openai"))
        let opened = OpenedOHTTPRequest(
            plaintext: Array("my private prompt".utf8), encapsulatedKey: [1], kemID: 0x20, kdfID: 1, aeadID: 3,
            responseSecret: [0xAA], chunkedResponseSecret: [0xBB]
        )
        #expect(!"\(opened)".contains("private"))
        #expect(!"\(opened)".contains("170"))  // 0xAA as a decimal byte
    }

    @Test("error codes map to the documented HTTP statuses")
    func httpStatuses() {
        let statuses = Dictionary(uniqueKeysWithValues: KeyServiceError.Code.allCases.map { ($0, $0.httpStatus) })
        #expect(statuses[.unauthorized] == 401)
        #expect(statuses[.replay] == 409)
        #expect(statuses[.malformed] == 400)
        #expect(statuses[.forbidden] == 403)
        #expect(statuses[.unknownKeyID] == 422)
        #expect(statuses[.notReady] == 503)
        #expect(statuses[.internalError] == 500)
    }

    @Test("long error messages are cut at a character boundary")
    func errorMessageLimit() {
        let error = KeyServiceError(.internalError, String(repeating: "é", count: 600))
        #expect(error.message.utf8.count <= KeyServiceError.maximumMessageBytes)
        #expect(error.message.utf8.count >= KeyServiceError.maximumMessageBytes - 1)
        #expect(error.message.allSatisfy { $0 == "é" })
    }
}
