import Foundation
import GatewayCore
import Testing

@testable import OHTTP

/// Interop with an independent implementation (Oracle/ohttp_oracle.py: pyhpke for HPKE and
/// X25519, X-Wing from `cryptography`'s ML-KEM-768, OHTTP written from the RFCs), in both
/// directions, including both response forms.
@Suite struct PythonInteropTests {
    static let suites: [HPKESuite] = [
        .x25519ChaCha20Poly1305, .xWingAES256GCM,
        HPKESuite(kem: .x25519HKDFSHA256, kdf: .hkdfSHA256, aead: .aes128GCM),
        HPKESuite(kem: .xWing, kdf: .hkdfSHA256, aead: .chaCha20Poly1305),
    ]

    let request = BinaryHTTPRequest(
        method: "POST", authority: "gateway.example", path: "/v1/chat/completions",
        headerFields: [HTTPField(name: "content-type", value: "application/json")],
        content: Array(#"{"model":"local","messages":[{"role":"user","content":"hi"}],"stream":true}"#.utf8))
    let response = BinaryHTTPResponse(
        status: 200, headerFields: [HTTPField(name: "content-type", value: "application/json")],
        content: Array(#"{"ok":true}"#.utf8))
    let chunks: [[UInt8]] = [Array("data: {\"a\":1}\n\n".utf8), [], Array("data: [DONE]\n\n".utf8)]

    @Test(arguments: suites)
    func pythonEncapsulatesAndSwiftDecapsulates(suite: HPKESuite) throws {
        let gateway = try OHTTPGatewayKeys.generate(suites: [suite])
        let config = try #require(gateway.configs.first)
        let requestBytes = try request.encoded()
        let python = try PythonOracle.run(
            "encapsulate", ["key_config": Hex.encode(config.encoded), "request": Hex.encode(requestBytes)])

        let opened = try gateway.decapsulate(try python.bytes("encapsulated_request"))
        #expect(try BinaryHTTPRequest(decoding: opened.plaintext) == request)
        let context = opened.responseContext
        #expect(context.encapsulatedKey == (try python.bytes("enc")))
        #expect(context.responseSecret == (try python.bytes("response_secret")))
        #expect(context.chunkedResponseSecret == (try python.bytes("chunked_response_secret")))

        let responseBytes = try response.encoded()
        var sealer = ChunkedResponseSealer(context: context)
        var chunked: [UInt8] = []
        for chunk in chunks.dropLast() {
            chunked += try sealer.seal(chunk)
        }
        chunked += try sealer.sealFinal(chunks[chunks.count - 1])
        let reply = try PythonOracle.run(
            "open",
            [
                "aead": Int(suite.aead.rawValue), "enc": Hex.encode(context.encapsulatedKey),
                "response_secret": Hex.encode(context.responseSecret),
                "chunked_response_secret": Hex.encode(context.chunkedResponseSecret),
                "response": Hex.encode(try context.sealResponse(responseBytes)),
                "chunked_response": Hex.encode(chunked),
            ])
        #expect(try reply.bytes("response") == responseBytes)
        #expect(try reply.byteArrays("chunks") == chunks)
    }

    @Test(arguments: suites)
    func swiftEncapsulatesAndPythonDecapsulates(suite: HPKESuite) throws {
        let keys = try PythonOracle.run(
            "keygen",
            [
                "kem": Int(suite.kem.rawValue), "kdf": Int(suite.kdf.rawValue), "aead": Int(suite.aead.rawValue),
                "key_id": 42,
            ])
        let config = try KeyConfig(decoding: try keys.bytes("key_config"))
        #expect(config.keyID == 42 && config.supportedSuites == [suite])
        let requestBytes = try request.encoded()
        let responseBytes = try response.encoded()
        let encapsulated = try OHTTPClient.encapsulate(request: requestBytes, config: config)

        let python = try PythonOracle.run(
            "decapsulate",
            [
                "key_config": Hex.encode(config.encoded), "private_key": Hex.encode(try keys.bytes("private_key")),
                "encapsulated_request": Hex.encode(encapsulated.bytes), "response": Hex.encode(responseBytes),
                "chunks": chunks.map { Hex.encode($0) },
            ])
        #expect(try python.bytes("request") == requestBytes)
        let context = encapsulated.responseContext
        #expect(context.responseSecret == (try python.bytes("response_secret")))
        #expect(context.chunkedResponseSecret == (try python.bytes("chunked_response_secret")))

        #expect(try BinaryHTTPResponse(decoding: try context.openResponse(try python.bytes("response"))) == response)
        var opener = ChunkedResponseOpener(context: context)
        var opened = try opener.feed(try python.bytes("chunked_response"))
        opened.append(try opener.finish())
        #expect(opened == chunks)
    }

    /// The oracle itself must be right: it reproduces RFC 9458 Appendix A from the RFC's
    /// ephemeral key and response nonce.
    @Test func oracleReproducesRFC9458AppendixA() throws {
        let vector = try OHTTPVectors.load().rfc9458_appendix_a
        let encapsulated = try PythonOracle.run(
            "encapsulate",
            [
                "key_config": vector.key_config, "request": vector.bhttp_request,
                "ephemeral_private_key": vector.ephemeral_private_key,
            ])
        #expect(try encapsulated.bytes("encapsulated_request") == hex(vector.encapsulated_request))
        let decapsulated = try PythonOracle.run(
            "decapsulate",
            [
                "key_config": vector.key_config, "private_key": vector.server_private_key,
                "encapsulated_request": vector.encapsulated_request, "response": vector.bhttp_response,
                "response_nonce": vector.response_nonce, "chunks": [String](),
            ])
        #expect(try decapsulated.bytes("response_secret") == hex(vector.response_secret))
        #expect(try decapsulated.bytes("response") == hex(vector.encapsulated_response))
    }

    /// The oracle's X-Wing matches the X-Wing draft's vector (key generation from the seed and
    /// decapsulation), so X-Wing interop is not Swift agreeing with itself.
    @Test func oracleXWingMatchesTheDraftVector() throws {
        let url = try packageRoot().appendingPathComponent("Tests/OHTTPTests/Oracle/xwing-vector.json")
        let vector = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let reply = try PythonOracle.run("xwing-selfcheck", vector)
        #expect(try reply.flag("public_key_matches"))
        #expect(try reply.flag("shared_secret_matches"))
    }
}
