import Foundation
import GatewayCore
import Testing

/// Responses signed exactly as the worker signs them, by a key made for the test.
struct SignedFixture {
    let key: InferenceSigningKey
    let files: TemporaryFiles
    let pem: String
    let request: JSONValue = [
        "model": "gpt-4.1", "messages": [["role": "user", "content": "Hello!"]], "temperature": 0.7,
    ]

    init() throws {
        key = try InferenceSigningKey.generate()
        files = try TemporaryFiles()
        pem = try files.write("key.pem", key.publicKey.pem)
    }

    var requestHash: Keccak256Digest { get throws { try CanonicalRequest(kind: .chat, body: request).hash } }

    func signature(output: Keccak256Digest, request: Keccak256Digest? = nil) throws -> TEESignature {
        try key.sign(requestHash: request ?? requestHash, outputHash: output, timestamp: 1_747_000_000)
    }

    func chat(_ text: String, signing signedText: String? = nil) throws -> [UInt8] {
        var object = JSONObject([
            ("id", "chatcmpl-1"), ("object", "chat.completion"),
            ("choices", [["index": 0, "message": ["role": "assistant", "content": .string(text)], "finish_reason": "stop"]]),
        ])
        try signature(output: OutputHash.text(signedText ?? text)).attach(to: &object)
        return JSONWriter.serialize(.object(object), style: .compact)
    }

    func sse(_ chunks: [JSONValue], signature: TEESignature) -> [UInt8] {
        var lines = chunks.map { "data: " + JSONWriter.string($0, style: .compact) + "\n\n" }
        var final = JSONObject([("choices", [["index": 0, "delta": [:], "finish_reason": "stop"]])])
        signature.attach(to: &final)
        lines.append("data: " + JSONWriter.string(.object(final), style: .compact) + "\n\n")
        lines.append("data: [DONE]\n\n")
        return Array(lines.joined().utf8)
    }

    func write(_ name: String, _ bytes: [UInt8]) throws -> String { try files.write(name, bytes) }
    func write(_ name: String, _ text: String) throws -> String { try files.write(name, text) }
}

@Suite struct VerifyCommandTests {
    let fixture: SignedFixture
    let requestPath: String

    init() throws {
        fixture = try SignedFixture()
        requestPath = try fixture.write("request.json", JSONWriter.serialize(fixture.request, style: .compact))
    }

    private func verify(_ response: [UInt8], _ extra: [String] = []) throws -> CommandResult {
        try gatewayctl(["verify", "--response", try fixture.write("response-\(UUID())", response), "--pem", fixture.pem] + extra, stdin: [])
    }

    @Test func signedChatResponseVerifies() throws {
        let result = try verify(try fixture.chat("Hello! How can I help?"), ["--request", requestPath])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("✓ signature: RSA-PSS by tee_id \(fixture.key.teeID) at tee_timestamp 1747000000"))
        #expect(result.stdout.contains("✓ tee_output_hash: keccak of the 22-byte answer text in the chat response"))
        #expect(result.stdout.contains("✓ tee_request_hash"))
        #expect(result.stdout.contains("response: VERIFIED ✓"))
    }

    @Test func withoutRequestTheRequestHashIsSkipped() throws {
        let result = try verify(try fixture.chat("Hi"))
        #expect(result.status == 0)
        #expect(result.stdout.contains("– tee_request_hash: skipped (no --request given)"))
    }

    @Test func tamperedContentFailsTheOutputHash() throws {
        let result = try verify(try fixture.chat("Hello! How can I help you?", signing: "Hello! How can I help?"))
        #expect(result.status == 1)
        #expect(result.stdout.contains("✓ signature"))
        let recomputed = OutputHash.text("Hello! How can I help you?").hex
        let signed = OutputHash.text("Hello! How can I help?").hex
        #expect(result.stdout.contains("✗ tee_output_hash: tee_output_hash mismatch: expected \(recomputed) got \(signed)"), "\(result.stdout)")
    }

    @Test func tamperedHashFailsTheSignature() throws {
        var value = try JSONParser().parse(try fixture.chat("Hi"))
        guard case .object(var object) = value else { Issue.record("not an object"); return }
        object["tee_output_hash"] = .string(OutputHash.text("Bye").hex)
        object["choices"] = [["index": 0, "message": ["role": "assistant", "content": "Bye"]]]
        value = .object(object)
        let result = try verify(JSONWriter.serialize(value, style: .compact))
        #expect(result.status == 1)
        #expect(result.stdout.contains("✗ signature: tee_signature does not verify"), "\(result.stdout)")
        #expect(result.stdout.contains("✓ tee_output_hash"))
    }

    @Test func wrongKeyFailsNamingBothTEEIDs() throws {
        let other = try InferenceSigningKey.generate()
        let otherPEM = try fixture.write("other.pem", other.publicKey.pem)
        let result = try gatewayctl(["verify", "--response", try fixture.write("r.json", try fixture.chat("Hi")), "--pem", otherPEM], stdin: [])
        #expect(result.status == 1)
        #expect(result.stdout.contains("✗ signature: tee_id mismatch: the key is \(other.teeID), the response names \(fixture.key.teeID)"))
    }

    @Test func requestMismatchFails() throws {
        let otherRequest = try fixture.write("other-request.json", Array(#"{"model":"gpt-4.1","messages":[{"role":"user","content":"Hello?"}],"temperature":0.7}"#.utf8))
        let result = try verify(try fixture.chat("Hi"), ["--request", otherRequest])
        #expect(result.status == 1)
        #expect(result.stdout.contains("✗ tee_request_hash: tee_request_hash mismatch: expected "))
        #expect(result.stdout.contains("got \(try fixture.requestHash.hex)"))
    }

    @Test func completionsResponseVerifiesWithItsKind() throws {
        let request: JSONValue = ["model": "gpt-4.1", "prompt": "Say hi"]
        let requestHash = try CanonicalRequest(kind: .completions, body: request).hash
        var object = JSONObject([("object", "text_completion"), ("choices", [["index": 0, "text": "hi"]])])
        try fixture.signature(output: OutputHash.text("hi"), request: requestHash).attach(to: &object)
        let requestFile = try fixture.write("c-request.json", JSONWriter.serialize(request, style: .compact))
        let result = try verify(JSONWriter.serialize(.object(object), style: .compact), ["--kind", "completions", "--request", requestFile])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let asChat = try verify(JSONWriter.serialize(.object(object), style: .compact))
        #expect(asChat.status == 2 && asChat.stderr.contains("use --kind completions"))
    }

    @Test func toolCallResponseHashesTheCalls() throws {
        let call = ToolCall(id: "call_abc123", name: "get_weather", arguments: #"{"location": "San Francisco"}"#)
        var object = JSONObject([
            ("choices", [["index": 0, "message": ["role": "assistant", "content": .null, "tool_calls": [call.json]]]])
        ])
        try fixture.signature(output: OutputHash.toolCalls([call])).attach(to: &object)
        let result = try verify(JSONWriter.serialize(.object(object), style: .compact))
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("keccak of the 1 tool call in the chat response"))
    }

    @Test func streamConcatenatesDeltasAndTakesTheFinalChunksSignature() throws {
        let chunks: [JSONValue] = [
            ["choices": [["index": 0, "delta": ["role": "assistant", "content": "Hello! "]]]],
            ["choices": [["index": 0, "delta": ["content": "How can I help?"]]]],
        ]
        let good = fixture.sse(chunks, signature: try fixture.signature(output: OutputHash.text("Hello! How can I help?")))
        let result = try verify(good, ["--stream", "--request", requestPath])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("in the chat stream"))
        let tampered = fixture.sse(chunks, signature: try fixture.signature(output: OutputHash.text("Hello!")))
        #expect(try verify(tampered, ["--stream"]).status == 1)
        let truncated = Array(String(decoding: good, as: UTF8.self).components(separatedBy: "\n\n").prefix(2).joined(separator: "\n\n").utf8)
        let cut = try verify(truncated, ["--stream"])
        #expect(cut.status == 2 && cut.stderr.contains("none of the 2 SSE events carries tee_signature"))
    }

    @Test func streamedToolCallFragmentsConcatenate() throws {
        let chunks: [JSONValue] = [
            ["choices": [["index": 0, "delta": ["role": "assistant", "tool_calls": [["index": 0, "id": "call_1", "type": "function", "function": ["name": "get_weather", "arguments": #"{"loc"#]]]]]]],
            ["choices": [["index": 0, "delta": ["tool_calls": [["index": 0, "function": ["arguments": #"ation": "SF"}"#]]]]]]],
        ]
        let call = ToolCall(id: "call_1", name: "get_weather", arguments: #"{"location": "SF"}"#)
        let result = try verify(fixture.sse(chunks, signature: try fixture.signature(output: OutputHash.toolCalls([call]))), ["--stream"])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("1 tool call"))
    }

    @Test func anthropicTextVerifiesAndToolUseIsUnsupported() throws {
        var text = JSONObject([("type", "message"), ("content", [["type": "text", "text": "Hello"], ["type": "text", "text": " there"]])])
        try fixture.signature(output: OutputHash.text("Hello there")).attach(to: &text)
        let result = try verify(JSONWriter.serialize(.object(text), style: .compact))
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        var tool = JSONObject([("type", "message"), ("content", [["type": "tool_use", "id": "t", "name": "f", "input": [:]]])])
        try fixture.signature(output: OutputHash.text("")).attach(to: &tool)
        let unsupported = try verify(JSONWriter.serialize(.object(tool), style: .compact))
        #expect(unsupported.status == 2 && unsupported.stderr.contains("unsupported: content[0] is tool_use"))
    }

    /// `--kind anthropic`: a native Claude answer (thinking, tool use) verifies whole and streamed,
    /// with the request hashed in its native projection (the projections themselves are checked
    /// against Python's vectors in GatewayCoreTests).
    @Test func nativeAnthropicVerifiesThinkingAndToolUse() throws {
        let request: JSONValue = [
            "model": "claude-opus-4-6", "max_tokens": 2048, "thinking": ["type": "enabled", "budget_tokens": 1024],
            "messages": [["role": "user", "content": "Hi"]],
        ]
        let requestFile = try fixture.write("native-request.json", JSONWriter.serialize(request, style: .compact))
        let requestHash = try CanonicalRequest(kind: .anthropicMessages, body: request).hash
        let content: [JSONValue] = [
            ["type": "thinking", "thinking": "Let me think.", "signature": "EqQB"],
            ["type": "tool_use", "id": "toolu_1", "name": "calc", "input": ["a": 1.5]],
        ]
        let output = AnthropicProjection.outputHash(content: content)
        var message = JSONObject([("type", "message"), ("content", .array(content))])
        try fixture.signature(output: output, request: requestHash).attach(to: &message)
        let whole = try verify(JSONWriter.serialize(.object(message), style: .compact), ["--kind", "anthropic", "--request", requestFile])
        #expect(whole.status == 0, "\(whole.stdout)\(whole.stderr)")
        #expect(whole.stdout.contains("keccak of the 2 content blocks in the native anthropic response"))

        // The thinking text is covered: change it and the output hash fails.
        var tampered = JSONObject([("type", "message"), ("content", .array([
            ["type": "thinking", "thinking": "Something else.", "signature": "EqQB"], content[1]]))])
        try fixture.signature(output: output, request: requestHash).attach(to: &tampered)
        let bad = try verify(JSONWriter.serialize(.object(tampered), style: .compact), ["--kind", "anthropic"])
        #expect(bad.status == 1 && bad.stdout.contains("✗ tee_output_hash"))

        let events: [JSONValue] = [
            ["type": "message_start", "message": ["content": []]],
            ["type": "content_block_start", "index": 0, "content_block": ["type": "thinking", "thinking": "", "signature": ""]],
            ["type": "content_block_delta", "index": 0, "delta": ["type": "thinking_delta", "thinking": "Let me think."]],
            ["type": "content_block_delta", "index": 0, "delta": ["type": "signature_delta", "signature": "EqQB"]],
            ["type": "content_block_stop", "index": 0],
            ["type": "content_block_start", "index": 1, "content_block": ["type": "tool_use", "id": "toolu_1", "name": "calc", "input": [:]]],
            ["type": "content_block_delta", "index": 1, "delta": ["type": "input_json_delta", "partial_json": #"{"a": 1.5}"#]],
            ["type": "content_block_stop", "index": 1],
        ]
        var delta = JSONObject([("type", "message_delta"), ("delta", ["stop_reason": "tool_use"])])
        try fixture.signature(output: output, request: requestHash).attach(to: &delta)
        let stream = (events + [.object(delta), ["type": "message_stop"]]).map {
            "event: \($0["type"]?.stringValue ?? "")\ndata: \(JSONWriter.string($0, style: .compact))\n\n"
        }.joined()
        let streamed = try verify(Array(stream.utf8), ["--kind", "anthropic", "--stream", "--request", requestFile])
        #expect(streamed.status == 0, "\(streamed.stdout)\(streamed.stderr)")
    }

    @Test func anthropicStreamRehashesTextAndToolCallFragments() throws {
        let events: [(String, JSONValue)] = [
            ("message_start", ["type": "message_start", "message": ["id": "msg_1", "type": "message", "content": []]]),
            ("content_block_start", ["type": "content_block_start", "index": 0, "content_block": ["type": "text", "text": ""]]),
            ("content_block_delta", ["type": "content_block_delta", "index": 0, "delta": ["type": "text_delta", "text": "Let me check."]]),
            ("content_block_stop", ["type": "content_block_stop", "index": 0]),
            ("content_block_start", ["type": "content_block_start", "index": 1, "content_block": ["type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": [:]]]),
            ("content_block_delta", ["type": "content_block_delta", "index": 1, "delta": ["type": "input_json_delta", "partial_json": #"{"location":"#]]),
            ("content_block_delta", ["type": "content_block_delta", "index": 1, "delta": ["type": "input_json_delta", "partial_json": #" "SF"}"#]]),
            ("content_block_stop", ["type": "content_block_stop", "index": 1]),
        ]
        let call = ToolCall(id: "toolu_1", name: "get_weather", arguments: #"{"location": "SF"}"#)
        func stream(signing output: Keccak256Digest) throws -> [UInt8] {
            var messageDelta = JSONObject([("type", "message_delta"), ("delta", ["stop_reason": "tool_use"])])
            try fixture.signature(output: output).attach(to: &messageDelta)
            let all = events + [("message_delta", .object(messageDelta)), ("message_stop", ["type": "message_stop"])]
            return Array(all.map { "event: \($0.0)\ndata: \(JSONWriter.string($0.1, style: .compact))\n\n" }.joined().utf8)
        }
        let good = try verify(try stream(signing: OutputHash.toolCalls([call])), ["--stream"])
        #expect(good.status == 0, "\(good.stdout)\(good.stderr)")
        #expect(good.stdout.contains("keccak of the 1 tool call in the anthropic stream"))
        let textOnly = try verify(try stream(signing: OutputHash.text("Let me check.")), ["--stream"])
        #expect(textOnly.status == 1 && textOnly.stdout.contains("✗ tee_output_hash"))
        let withRequest = try verify(try stream(signing: OutputHash.toolCalls([call])), ["--stream", "--request", requestPath])
        #expect(withRequest.status == 2 && withRequest.stderr.contains("--request with an Anthropic response is unsupported"))
    }

    @Test func keyFetchedFromURLCarriesTheCaveat() async throws {
        let gateway = try await TestGateway()
        var object = JSONObject([("choices", [["index": 0, "message": ["role": "assistant", "content": "Hi"]]])])
        try gateway.signingKey.sign(requestHash: try fixture.requestHash, outputHash: OutputHash.text("Hi"), timestamp: 1).attach(to: &object)
        let response = try fixture.write("url.json", JSONWriter.serialize(.object(object), style: .compact))
        let result = try gatewayctl(["verify", "--response", response, "--url", gateway.url], stdin: [])
        try await gateway.stop()
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("caveat:   this key is what \(gateway.url) says about itself"))
    }

    @Test func unusableInputExitsTwo() throws {
        let good = try fixture.write("good.json", try fixture.chat("Hi"))
        let cases: [([String], String)] = [
            (["--response", try fixture.write("bad.json", Array(#"{"choices": [}"#.utf8)), "--pem", fixture.pem], "invalid JSON at line 1"),
            (["--response", try fixture.write("unsigned.json", Array(#"{"choices":[{"message":{"content":"x"}}]}"#.utf8)), "--pem", fixture.pem], "response has no 'tee_request_hash'"),
            (["--response", try fixture.write("bad-stream", Array("data: {\"choices\": [}\n\n".utf8)), "--pem", fixture.pem, "--stream"], "SSE event 0: invalid JSON"),
            (["--response", good, "--pem", try fixture.write("bad.pem", "nope")], "--pem"),
            (["--response", good, "--pem", fixture.pem, "--request", try fixture.write("bad-request.json", Array(#"{"model":"m","messages":[{"role":"bot","content":"x"}]}"#.utf8))], "'bot' is not a valid role"),
            (["--response", good], "exactly one of --url or --pem"),
        ]
        for (arguments, message) in cases {
            let result = try gatewayctl(["verify"] + arguments, stdin: [])
            #expect(result.status == 2, "\(arguments): \(result.stdout)\(result.stderr)")
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
    }
}
