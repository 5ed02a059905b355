import GatewayCore
import OHTTP
import Synchronization
import Testing

@testable import GatewayClient

/// The client half of OHTTP without a network: what `ObliviousClient` seals and how it reads
/// answers split at arbitrary points. The live exchange is in `ApplianceTests`.
@Suite struct ObliviousClientTests {
    @Test func relayTargetsParseWithADefaultPath() throws {
        let relay = try RelayTarget(parsing: "https://relay.example/ohttp/gateway")
        #expect(relay.endpoint.host == "relay.example" && relay.endpoint.port == 443)
        #expect(relay.path == "/ohttp/gateway")
        let direct = try RelayTarget(parsing: "https://127.0.0.1:8443")
        #expect(direct.endpoint.port == 8443 && direct.path == "/v1/ohttp")
        #expect(throws: GatewayFetchError.self) { try RelayTarget(parsing: "http://relay.example/ohttp") }
    }

    @Test func innerRequestsEncodeAsBinaryHTTPOrRawJSON() throws {
        let body = Array(#"{"model":"local","messages":[]}"#.utf8)
        let bhttp = try ObliviousRequest(path: "/v1/messages", body: body).plaintext()
        let decoded = try BinaryHTTPRequest(decoding: bhttp)
        #expect(decoded.method == "POST" && decoded.path == "/v1/messages" && decoded.content == body)
        #expect(decoded.headerFields == [HTTPField(name: "content-type", value: "application/json")])
        #expect(try ObliviousRequest.chat(json: body).plaintext() == body)
        #expect(throws: ObliviousClientError.self) {
            try ObliviousRequest(path: "/v1/messages", body: body, encoding: .json).plaintext()
        }
        #expect(ObliviousClient.split(Array(repeating: 1, count: 10)).count > 1)
        #expect(ObliviousClient.split([]) == [[]])
    }

    /// A streamed Binary HTTP answer as the gateway seals it, fed to the reader one byte at a
    /// time: every event reaches `onEvent` in order, and the inner head and body come out whole.
    @Test(arguments: [HPKESuite.x25519ChaCha20Poly1305, .xWingAES256GCM])
    func streamedAnswersOpenIncrementally(suite: HPKESuite) throws {
        let gateway = try OHTTPGatewayKeys.generate(suites: [suite])
        let sealed = try OHTTPClient.encapsulate(request: [1], config: gateway.configs[0])
        let context = try gateway.decapsulate(sealed.bytes).responseContext
        let events = ["data: {\"a\":1}\n\n", "data: {\"b\":2}\n\n", "data: [DONE]\n\n"]
        var sealer = ChunkedResponseSealer(context: context)
        var wire = try sealer.seal(
            BinaryHTTPResponseWriter.head(status: 200, headerFields: [HTTPField(name: "content-type", value: "text/event-stream")]))
        for event in events { wire += try sealer.seal(BinaryHTTPResponseWriter.contentChunk(Array(event.utf8))) }
        wire += try sealer.sealFinal(BinaryHTTPResponseWriter.end)

        let seen = Mutex<[String]>([])
        var reader = ResponseReader(context: sealed.responseContext, encoding: .binaryHTTP) { event in
            seen.withLock { $0.append(event.data) }
        }
        reader.begin(status: 200, contentType: OHTTPMediaType.chunkedResponse)
        for byte in wire { try reader.feed([byte]) }
        #expect(seen.withLock { $0 } == [#"{"a":1}"#, #"{"b":2}"#, "[DONE]"])
        let answer = try reader.finish()
        #expect(answer.status == 200 && answer.streamed && answer.sealedChunks == 5)
        #expect(answer.body == Array(events.joined().utf8))

        // One flipped bit anywhere after the nonce fails authentication.
        var tampered = wire
        tampered[tampered.count - 3] ^= 1
        var strict = ResponseReader(context: sealed.responseContext, encoding: .binaryHTTP, onEvent: nil)
        strict.begin(status: 200, contentType: OHTTPMediaType.chunkedResponse)
        try strict.feed(tampered)
        #expect(throws: ResponseError.self) { try strict.finish() }
    }

    @Test func clearRefusalsAndForeignMediaTypesAreErrors() throws {
        let gateway = try OHTTPGatewayKeys.generate(suites: [.x25519ChaCha20Poly1305])
        let sealed = try OHTTPClient.encapsulate(request: [1], config: gateway.configs[0])
        var refused = ResponseReader(context: sealed.responseContext, encoding: .json, onEvent: nil)
        refused.begin(status: 422, contentType: "application/problem+json")
        try refused.feed(Array(#"{"type":"…#ohttp-key"}"#.utf8))
        #expect(throws: ObliviousClientError.self) { try refused.finish() }
        var foreign = ResponseReader(context: sealed.responseContext, encoding: .json, onEvent: nil)
        foreign.begin(status: 200, contentType: "application/json")
        #expect(throws: ObliviousClientError.self) { try foreign.finish() }
    }
}
