import Testing

@testable import OHTTP

/// RFC 9458 Appendix A end to end: the RFC's gateway key opens the RFC's request, and the
/// response sealed with the RFC's nonce is the RFC's response, byte for byte.
@Suite struct RFC9458AppendixATests {
    let vector: OHTTPVectors.AppendixA
    let gateway: OHTTPGatewayKeys

    init() throws {
        vector = try OHTTPVectors.load().rfc9458_appendix_a
        let config = try KeyConfig(decoding: try hex(vector.key_config))
        gateway = OHTTPGatewayKeys(keyPairs: [
            .init(
                config: config,
                privateKey: try HPKEPrivateKey(x25519RawRepresentation: try hex(vector.server_private_key)))
        ])
    }

    @Test func gatewayPublishesTheRFCConfig() throws {
        #expect(gateway.configs.map(\.encoded) == [try hex(vector.key_config)])
    }

    @Test func decapsulatesTheRFCRequest() throws {
        let opened = try gateway.decapsulate(try hex(vector.encapsulated_request))
        #expect(opened.plaintext == (try hex(vector.bhttp_request)))
        #expect(opened.responseContext.suite == HPKESuite(kem: .x25519HKDFSHA256, kdf: .hkdfSHA256, aead: .aes128GCM))
        #expect(opened.responseContext.responseSecret == (try hex(vector.response_secret)))
        #expect(opened.responseContext.encapsulatedKey == Array((try hex(vector.encapsulated_request))[7..<39]))
    }

    @Test func sealsTheRFCResponse() throws {
        let context = try gateway.decapsulate(try hex(vector.encapsulated_request)).responseContext
        let nonce = try hex(vector.response_nonce)
        let keys = ResponseKeys(
            secret: context.responseSecret, encapsulatedKey: context.encapsulatedKey, responseNonce: nonce,
            aead: .aes128GCM)
        #expect(keys.key.bytes == (try hex(vector.aead_key)))
        #expect(keys.nonce == (try hex(vector.aead_nonce)))

        let wire = try context.sealResponse(try hex(vector.bhttp_response), responseNonce: nonce)
        #expect(wire == (try hex(vector.encapsulated_response)))
        #expect(try context.openResponse(wire) == (try hex(vector.bhttp_response)))
    }

    @Test func innerMessagesAreTheRFCBinaryHTTP() throws {
        let request = try BinaryHTTPRequest(decoding: try hex(vector.bhttp_request))
        #expect(request == BinaryHTTPRequest(method: "GET", scheme: "https", authority: "example.com", path: "/"))
        #expect(try request.encoded() == (try hex(vector.bhttp_request)))

        let response = try BinaryHTTPResponse(decoding: try hex(vector.bhttp_response))
        #expect(response == BinaryHTTPResponse(status: 200))
        #expect(try response.encoded() == (try hex(vector.bhttp_response)))
    }

    @Test func clientRoundTripsAgainstTheRFCKey() throws {
        let config = try #require(gateway.configs.first)
        let request = try hex(vector.bhttp_request)
        let encapsulated = try OHTTPClient.encapsulate(request: request, config: config)
        #expect(Array(encapsulated.bytes[..<7]) == [0x01, 0x00, 0x20, 0x00, 0x01, 0x00, 0x01])
        let opened = try gateway.decapsulate(encapsulated.bytes)
        #expect(opened.plaintext == request)
        let response = try opened.responseContext.sealResponse(try hex(vector.bhttp_response))
        #expect(try encapsulated.responseContext.openResponse(response) == (try hex(vector.bhttp_response)))
    }
}
