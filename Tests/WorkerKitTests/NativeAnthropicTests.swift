import Foundation
import GatewayCore
import Testing
import UpstreamMock

/// Anthropic's Messages wire, as its API documents it, for scripting the mock.
enum ClaudeWire {
    static let thinking = "Let me compute 27 * 453 step by step."
    static let signature = "EqQBCgIYAhIM1gbcDa9GJwZA"

    static func message(_ content: String, usage: String = #"{"input_tokens":20,"output_tokens":40}"#) -> String {
        #"{"id":"msg_01","type":"message","role":"assistant","model":"claude-haiku-4-5-20251001","content":\#(content),"stop_reason":"end_turn","stop_sequence":null,"usage":\#(usage)}"#
    }

    static let thinkingMessage = message(
        #"[{"type":"thinking","thinking":"\#(thinking)","signature":"\#(signature)"},{"type":"text","text":"12231"}]"#)

    static func event(_ name: String, _ json: String) -> String { sse(event: name, json) }

    /// A stream with every event type Anthropic documents, in its order.
    static let thinkingStream: [String] = [
        event("message_start", #"{"type":"message_start","message":{"id":"msg_01","type":"message","role":"assistant","model":"claude-haiku-4-5-20251001","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":20,"output_tokens":1,"cache_creation_input_tokens":0,"cache_read_input_tokens":0}}}"#),
        event("content_block_start", #"{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}}"#),
        event("ping", #"{"type":"ping"}"#),
        event("content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Let me compute 27 * 453"}}"#),
        event("content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":" step by step."}}"#),
        event("content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"\#(signature)"}}"#),
        event("content_block_stop", #"{"type":"content_block_stop","index":0}"#),
        event("content_block_start", #"{"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}"#),
        event("content_block_delta", #"{"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"12231"}}"#),
        event("content_block_stop", #"{"type":"content_block_stop","index":1}"#),
        event("message_delta", #"{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":40}}"#),
        event("message_stop", #"{"type":"message_stop"}"#),
    ]

    /// Tool input in fragments and a citation delta.
    static let toolStream: [String] = [
        event("message_start", #"{"type":"message_start","message":{"id":"msg_02","type":"message","role":"assistant","model":"claude-haiku-4-5-20251001","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":5,"output_tokens":1}}}"#),
        event("content_block_start", #"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":"","citations":[]}}"#),
        event("content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"citations_delta","citation":{"type":"char_location","cited_text":"x","document_index":0,"start_char_index":0,"end_char_index":1}}}"#),
        event("content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"See x."}}"#),
        event("content_block_stop", #"{"type":"content_block_stop","index":0}"#),
        event("content_block_start", #"{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_1","name":"calc","input":{}}}"#),
        event("content_block_delta", #"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"a\": 1."}}"#),
        event("content_block_delta", #"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"5}"}}"#),
        event("content_block_stop", #"{"type":"content_block_stop","index":1}"#),
        event("message_delta", #"{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":9}}"#),
        event("message_stop", #"{"type":"message_stop"}"#),
    ]
}

/// `/v1/messages` for Claude models goes to Anthropic as the client wrote it and comes back as
/// Anthropic answered, plus the signature over the native projections.
@Suite("native Anthropic routing through the worker")
struct NativeAnthropicTests {
    /// Every field the issue lists, plus one Anthropic may add tomorrow.
    static let richRequest = #"""
        {"model":"claude-haiku-4-5","max_tokens":4096,"thinking":{"type":"enabled","budget_tokens":2048},"top_k":40,
         "metadata":{"user_id":"u-1"},"service_tier":"standard_only","stop_sequences":["A","B","C","D","E"],
         "output_config":{"effort":"high"},"a_future_field":{"x":[1,2.50]},
         "system":[{"type":"text","text":"Be exact.","cache_control":{"type":"ephemeral","ttl":"1h"}}],
         "tools":[{"name":"calc","description":"math","input_schema":{"type":"object"},"cache_control":{"type":"ephemeral"}},
                  {"type":"web_search_20250305","name":"web_search","max_uses":2}],
         "tool_choice":{"type":"auto","disable_parallel_tool_use":true},
         "messages":[
          {"role":"user","content":[{"type":"document","source":{"type":"url","url":"https://example.com/a.pdf"},"citations":{"enabled":true}},
                                    {"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}},
                                    {"type":"text","text":"Compute."}]},
          {"role":"assistant","content":[{"type":"thinking","thinking":"hmm","signature":"sig"},{"type":"tool_use","id":"toolu_0","name":"calc","input":{"a":1}}]},
          {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_0","content":"boom","is_error":true}]}]}
        """#

    @Test("the body reaches Anthropic unchanged but for the model id; the answer returns unchanged and signed")
    func passThroughNonStreamed() async throws {
        let answer = ClaudeWire.message(
            #"[{"type":"thinking","thinking":"t","signature":"s"},{"type":"redacted_thinking","data":"EmwKAhgB"},{"type":"text","text":"Hi","citations":[{"type":"char_location","cited_text":"x","document_index":0,"start_char_index":0,"end_char_index":1}]},{"type":"tool_use","id":"toolu_1","name":"calc","input":{"a":2}}]"#,
            usage: #"{"input_tokens":20,"output_tokens":40,"cache_creation_input_tokens":1200,"cache_read_input_tokens":3400,"service_tier":"standard"}"#)
        try await withUpstreamWorker([.json(status: 200, answer)]) { worker, mock in
            let key = try await worker.verifyingKey()
            let reply = try await worker.client.send(.POST, "/v1/messages", body: .json(Self.richRequest))
            #expect(reply.status == 200, "\(reply.text)")
            let sent = try #require(mock.requests.first)
            #expect(sent.uri == "/v1/messages")
            #expect(sent.header("x-api-key") == "sk-test" && sent.header("anthropic-version") == "2026-10-21")
            guard case .object(var expected) = try JSONParser().parse(Array(Self.richRequest.utf8)) else { return }
            expected["model"] = "claude-haiku-4-5-20251001"
            #expect(try sent.json == .object(expected), "the upstream body differs from the client's")

            guard case .object(var received) = try JSONParser().parse(reply.body) else { return }
            for field in teeFieldNames {
                #expect(received[field] != nil)
                received[field] = nil
            }
            #expect(JSONValue.object(received) == (try JSONParser().parse(Array(answer.utf8))), "the answer was changed")
            let content = try #require(received["content"]?.arrayValue)
            try SignedFields(try reply.json).check(
                request: Self.richRequest, kind: .anthropicMessages, output: AnthropicProjection.outputHash(content: content), key: key)
        }
    }

    @Test("a stream passes every event through in order, and the signature covers thinking and tool calls")
    func passThroughStreamed() async throws {
        let request = #"{"model":"claude-haiku-4-5","max_tokens":3000,"thinking":{"type":"enabled","budget_tokens":1024},"stream":true,"messages":[{"role":"user","content":"Hi"}]}"#
        try await withUpstreamWorker([.sse(ClaudeWire.thinkingStream), .sse(ClaudeWire.toolStream)]) { worker, mock in
            let key = try await worker.verifyingKey()
            for (wire, expectedContent) in [
                (ClaudeWire.thinkingStream, #"[{"type":"thinking","thinking":"\#(ClaudeWire.thinking)","signature":"\#(ClaudeWire.signature)"},{"type":"text","text":"12231"}]"#),
                (ClaudeWire.toolStream, #"[{"type":"text","text":"See x.","citations":[]},{"type":"tool_use","id":"toolu_1","name":"calc","input":{"a": 1.5}}]"#),
            ] {
                let reply = try await worker.client.send(.POST, "/v1/messages", body: .json(request))
                #expect(reply.status == 200)
                let upstreamNames = wire.map { $0.split(separator: "\n")[0].dropFirst(7) }.map(String.init)
                #expect(SSEFrames.events(in: reply.text) == upstreamNames, "event order changed")
                let data = SSEFrames.data(in: reply.text)
                let upstreamData = wire.map { String($0.split(separator: "\n")[1].dropFirst(6)) }
                for (i, (got, sent)) in zip(data, upstreamData).enumerated() where !sent.contains("message_delta") {
                    #expect(got == sent, "event \(i) changed")
                }
                var assembler = AnthropicStreamAssembler()
                for payload in data { try assembler.add(try JSONParser().parse(Array(payload.utf8))) }
                let whole = AnthropicProjection.outputHash(content: try JSONParser().parse(Array(expectedContent.utf8)).arrayValue ?? [])
                #expect(assembler.outputHash == whole, "a streamed answer must hash like the same answer whole")
                let signed = try #require(data.first { $0.contains("tee_signature") })
                #expect(signed.contains(#""type":"message_delta""#))
                try SignedFields(try jsonObject(signed)).check(request: request, kind: .anthropicMessages, output: whole, key: key)
            }
            #expect(try mock.requests[0].json["stream"] == true && mock.requests.count == 2)
        }
    }

    @Test("count_tokens asks Anthropic for Claude models and says estimate otherwise; retired ids are named")
    func countTokensAndRetiredModels() async throws {
        try await withUpstreamWorker([.json(status: 200, #"{"input_tokens":17}"#)]) { worker, mock in
            let claude = try await worker.client.send(
                .POST, "/v1/messages/count_tokens", body: .json(#"{"model":"claude-opus-4-6","messages":[{"role":"user","content":"Hi"}]}"#))
            #expect(claude.text == #"{"input_tokens":17}"#)
            #expect(mock.requests.first?.uri == "/v1/messages/count_tokens")
            #expect(try mock.requests.first?.json["model"] == "claude-opus-4-6")
            let local = try await worker.client.send(
                .POST, "/v1/messages/count_tokens", body: .json(#"{"model":"local","messages":[{"role":"user","content":"Hi"}]}"#))
            #expect(try local.json["estimate"] as? Bool == true)
            let retired = try await worker.client.send(
                .POST, "/v1/messages", body: .json(#"{"model":"claude-sonnet-4-0","max_tokens":10,"messages":[{"role":"user","content":"Hi"}]}"#))
            #expect(retired.status == 400 && retired.text.contains("claude-sonnet-4-0") && retired.text.contains("retired"))
            #expect(mock.requests.count == 1)
        }
    }

    @Test("translated /v1/messages refuses what it cannot translate, by name")
    func translatedMessagesRefuseByName() async throws {
        try await withUpstreamWorker([]) { worker, mock in
            for field in [#""top_k":5"#, #""service_tier":"auto""#, #""output_config":{"effort":"low"}"#, #""future":1"#] {
                let body = #"{"model":"gpt-4.1","max_tokens":10,"messages":[{"role":"user","content":"Hi"}],\#(field)}"#
                let reply = try await worker.client.send(.POST, "/v1/messages", body: .json(body))
                let name = String(field.split(separator: ":")[0].dropFirst().dropLast())
                #expect(reply.status == 400 && reply.text.contains("'\(name)'"), "\(field): \(reply.status) \(reply.text)")
            }
            #expect(mock.requests.isEmpty)
        }
    }
}
