import Foundation
import Testing

@testable import GatewayCore

/// The native Anthropic projections (docs/wire-contracts.md §3.5.1, §4.1) against vectors that
/// Python computed from the documented rules (Tests/Vectors/anthropic-native-vectors.json), and
/// the stream assembler against the whole-message hash.
@Suite struct AnthropicProjectionTests {
    struct Vectors: Decodable {
        struct Request: Decodable { let name, request, canonical, hash: String }
        struct Output: Decodable { let name, content, canonical, hash: String }
        let requests: [Request]
        let outputs: [Output]
    }

    static let vectors: Vectors = {
        do { return try JSONDecoder().decode(Vectors.self, from: vectorFile("anthropic-native-vectors.json")) } catch {
            fatalError("Tests/Vectors/anthropic-native-vectors.json is unreadable: \(error)")
        }
    }()

    @Test func requestVectors() throws {
        #expect(Self.vectors.requests.count == 2)
        for vector in Self.vectors.requests {
            let canonical = try CanonicalRequest(kind: .anthropicMessages, body: try JSONParser().parse(Array(vector.request.utf8)))
            #expect(String(decoding: canonical.bytes, as: UTF8.self) == vector.canonical, "\(vector.name)")
            #expect(canonical.hash.hex == vector.hash, "\(vector.name)")
        }
    }

    @Test func outputVectors() throws {
        #expect(Self.vectors.outputs.count == 3)
        for vector in Self.vectors.outputs {
            let content = try #require(try JSONParser().parse(Array(vector.content.utf8)).arrayValue)
            let projected = JSONWriter.serialize(.array(content.map(AnthropicProjection.outputBlock)), style: .canonical)
            #expect(String(decoding: projected, as: UTF8.self) == vector.canonical, "\(vector.name)")
            #expect(AnthropicProjection.outputHash(content: content).hex == vector.hash, "\(vector.name)")
        }
    }

    @Test func streamAndWholeHashAlikeAndBadStreamsAreNamed() throws {
        let events = [
            #"{"type":"message_start","message":{"content":[]}}"#,
            #"{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}}"#,
            #"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Let me "}}"#,
            #"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"think."}}"#,
            #"{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"EqQB"}}"#,
            #"{"type":"content_block_stop","index":0}"#,
            #"{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"t","name":"n","input":{}}}"#,
            #"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"b\": [1, 2.0],"}}"#,
            #"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":" \"a\": \"\u00e9\"}"}}"#,
            #"{"type":"content_block_stop","index":1}"#,
        ]
        var assembler = AnthropicStreamAssembler()
        for event in events { try assembler.add(try JSONParser().parse(Array(event.utf8))) }
        let whole = #"[{"type":"thinking","thinking":"Let me think.","signature":"EqQB"},{"type":"tool_use","id":"t","name":"n","input":{"b":[1,2.0],"a":"é"}}]"#
        #expect(assembler.outputHash == AnthropicProjection.outputHash(content: try JSONParser().parse(Array(whole.utf8)).arrayValue ?? []))

        var broken = AnthropicStreamAssembler()
        #expect(throws: InvalidRequest.self) {
            try broken.add(try JSONParser().parse(Array(#"{"type":"content_block_delta","index":3,"delta":{"type":"text_delta","text":"x"}}"#.utf8)))
        }
        var badJSON = AnthropicStreamAssembler()
        try badJSON.add(try JSONParser().parse(Array(events[6].utf8)))
        try badJSON.add(try JSONParser().parse(Array(#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"a\":"}}"#.utf8)))
        #expect(throws: InvalidRequest.self) { try badJSON.add(try JSONParser().parse(Array(events[9].utf8))) }
    }
}
