import Crypto
import Foundation
import Testing

@testable import GatewayCore

/// Every vector in Tests/Vectors/signing-vectors.json, plus the end-to-end runs of the upstream
/// spec notes (§9.3), which pin request hash, output hash and signed message together.
@Suite struct SigningVectorTests {
    struct Vectors: Decodable {
        struct Request: Decodable { let name, kind, request, canonical, hash: String }
        struct Output: Decodable {
            let text: String?
            let tool_calls: [Call]?
            let hash: String
        }
        struct Call: Decodable {
            struct Function: Decodable { let name, arguments: String }
            let id: String
            let function: Function
        }
        struct Message: Decodable { let request_hash, output_hash, message_hash: String; let timestamp: UInt64 }
        struct RSA: Decodable { let public_key_pem, tee_id, message_hash, signature: String }
        let keccak: [String: String]
        let requests: [Request]
        let outputs: [Output]
        let messages: [Message]
        let rsa_pss_verify: RSA
    }

    static let vectors: Vectors = {
        do { return try JSONDecoder().decode(Vectors.self, from: vectorFile("signing-vectors.json")) } catch {
            fatalError("Tests/Vectors/signing-vectors.json is unreadable: \(error)")
        }
    }()

    static func digest(_ hex: String) -> Keccak256Digest { Keccak256Digest(hex: hex)! }

    @Test func keccakVectors() {
        #expect(!Self.vectors.keccak.isEmpty)
        for (input, hash) in Self.vectors.keccak { #expect(Keccak256.hash(input.utf8).hex == hash, "keccak(\(input))") }
    }

    @Test(arguments: vectors.requests.map(\.name))
    func requestVector(name: String) throws {
        let vector = try #require(Self.vectors.requests.first { $0.name == name })
        let kind = try #require(RequestKind(rawValue: vector.kind))
        let request = try CanonicalRequest(kind: kind, body: JSONParser().parse(vector.request))
        #expect(String(decoding: request.bytes, as: UTF8.self) == vector.canonical)
        #expect(request.hash.hex == vector.hash)
    }

    @Test func outputVectors() throws {
        #expect(Self.vectors.outputs.count == 4)
        for output in Self.vectors.outputs {
            if let text = output.text {
                #expect(OutputHash.text(text).hex == output.hash)
            } else {
                let calls = try #require(output.tool_calls).map { ToolCall(id: $0.id, name: $0.function.name, arguments: $0.function.arguments) }
                #expect(OutputHash.toolCalls(calls).hex == output.hash)
            }
        }
    }

    @Test func messageVectors() {
        for m in Self.vectors.messages {
            let hash = SignedMessage.hash(requestHash: Self.digest(m.request_hash), outputHash: Self.digest(m.output_hash), timestamp: m.timestamp)
            #expect(hash.hex == m.message_hash)
        }
    }

    @Test func rsaPSSVerifyVector() throws {
        let rsa = Self.vectors.rsa_pss_verify
        let key = try InferenceVerifyingKey(pem: rsa.public_key_pem)
        #expect(key.teeID.description == rsa.tee_id)
        #expect(key.spkiDER.count == 294)
        // nitriding's /enclave/hash body for this key (spec notes §9.3).
        #expect(Data(SHA256.hash(data: key.spkiDER)).base64EncodedString() == "i0sajZfMQiGnKuBKMgm7Qt8g6UQCyLpsaeMj2fkV9wI=")
        let signature = try #require(Data(base64Encoded: rsa.signature))
        #expect(key.isValidSignature(Array(signature), messageHash: Self.digest(rsa.message_hash)))
        var flipped = Array(signature)
        flipped[100] ^= 0x01
        #expect(!key.isValidSignature(flipped, messageHash: Self.digest(rsa.message_hash)))
        // PSS signs SHA-256 of the message hash: spec notes' mHash for E1.
        #expect(Hex.encode(SHA256.hash(data: Self.digest(rsa.message_hash).bytes)) == "6e02e884a79576439a3384ed897f5e1b151a29ceeb5cc46bbfb96e8e878a5f69")
    }

    /// E2–E5 (spec notes §9.3): request, output and signed message hashes at tee_timestamp 1747000000.
    @Test(arguments: [
        ("E2", #"{"model": "gpt-4.1", "messages": [{"role": "user", "content": "Weather in SF?"}], "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Get weather", "parameters": {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]}}}]}"#,
         RequestKind.chat, "call_abc123", #"{"location": "San Francisco"}"#, "34226abc04b54d0fafdc506683a40ca5cd8e8c7603c769078f4b3a0ba019d2bf"),
        ("E3", #"{"model":"gpt-4.1","messages":[{"role":"user","content":"Hello!"}],"stream":true}"#,
         RequestKind.chat, nil, "Hello!", "427f223c292c8da77fa1173566625b0c3674618ada7d91d01aef4a773e7cd175"),
        ("E4", #"{"model": "gpt-4.1", "messages": [{"role": "user", "content": "Weather in SF?"}], "stream": true, "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"location": {"type": "string"}}}}}]}"#,
         RequestKind.chat, "call_1", #"{"location": "SF"}"#, "5b87e9256a5166438fcdc52631b7f22370989208e67c21b31a49cec6deea2405"),
        ("E5", #"{"model":"gpt-4.1","prompt":"Say hi"}"#, RequestKind.completions, nil, "Hi!",
         "4d70143e3ed2e8df9abfdac79c42d7cd096b2784174c393728d35e82a6645809"),
    ] as [(String, String, RequestKind, String?, String, String)])
    func endToEndRun(name: String, request: String, kind: RequestKind, toolCallID: String?, output: String, message: String) throws {
        let requestHash = try CanonicalRequest(kind: kind, body: parse(request)).hash
        let outputHash = toolCallID.map { OutputHash.toolCalls([ToolCall(id: $0, name: "get_weather", arguments: output)]) } ?? OutputHash.text(output)
        #expect(SignedMessage.hash(requestHash: requestHash, outputHash: outputHash, timestamp: 1_747_000_000).hex == message, "\(name)")
    }

    @Test func heartbeatVector() {
        let teeID = TEEID(digest: Keccak256Digest(bytes: Array(0..<32))!)
        #expect(SignedMessage.heartbeat(teeID: teeID, timestamp: 1_746_999_700).hex == "00efd3dd0b0e13ce2b3c70ae9a666f2eeb345d331b10adcd7676f75ad525c7bf")
    }

    /// Upstream's C2 and R9 (spec notes §9.3) are not in the vector file.
    @Test func specNoteExtras() throws {
        let c2 = try CanonicalRequest(kind: .completions, body: parse(#"{"model":"gpt-4.1","prompt":"Say hi","temperature":0.5,"max_tokens":64,"stop":["\n"]}"#))
        #expect(c2.hash.hex == "30b250eb683acc832e6fe45154973b2a84dd9ed33a9f19b9bb757095bdb1817e")
        #expect(OutputHash.text("Hi!").hex == "9f3b39a5c55df6cfcadf9b71aed8bbd32c7050e2c9938aaa34f9cdce548fdc76")
    }
}
