import GatewayCore
import Testing
import UpstreamMock

@testable import Providers

/// Anthropic Messages streaming as documented: named events, each repeating its type in JSON,
/// no `[DONE]`, usage cumulative in `message_delta`.
enum AnthropicWire {
    static func start(input: Int = 25, cacheRead: Int = 0) -> String {
        sse(event: "message_start", #"{"type":"message_start","message":{"id":"msg_01","type":"message","role":"assistant","content":[],"model":"claude-sonnet-4-6","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":\#(input),"output_tokens":1,"cache_creation_input_tokens":3,"cache_read_input_tokens":\#(cacheRead)}}}"#)
    }
    static func textBlock(_ index: Int, _ pieces: [String]) -> [String] {
        [sse(event: "content_block_start", #"{"type":"content_block_start","index":\#(index),"content_block":{"type":"text","text":""}}"#),
         sse(event: "ping", #"{"type":"ping"}"#)]
            + pieces.map { sse(event: "content_block_delta", #"{"type":"content_block_delta","index":\#(index),"delta":{"type":"text_delta","text":"\#($0)"}}"#) }
            + [stop(index)]
    }
    static func toolStart(_ index: Int, id: String, name: String) -> String {
        sse(event: "content_block_start", #"{"type":"content_block_start","index":\#(index),"content_block":{"type":"tool_use","id":"\#(id)","name":"\#(name)","input":{}}}"#)
    }
    static func json(_ index: Int, _ partial: String) -> String {
        sse(event: "content_block_delta", #"{"type":"content_block_delta","index":\#(index),"delta":{"type":"input_json_delta","partial_json":"\#(partial)"}}"#)
    }
    static func stop(_ index: Int) -> String { sse(event: "content_block_stop", #"{"type":"content_block_stop","index":\#(index)}"#) }
    static func end(_ reason: String, output: Int = 89) -> [String] {
        [sse(event: "message_delta", #"{"type":"message_delta","delta":{"stop_reason":"\#(reason)","stop_sequence":null},"usage":{"output_tokens":\#(output)}}"#),
         sse(event: "message_stop", #"{"type":"message_stop"}"#)]
    }
}

@Suite struct AnthropicProviderTests {
    @Test func streamsTextWithUsageInOpenAITerms() async throws {
        let wire = [AnthropicWire.start(input: 25, cacheRead: 10)] + AnthropicWire.textBlock(0, ["Hello", " there"]) + AnthropicWire.end("end_turn")
        try await withMock([.sse(wire)]) { mock, router, registry in
            let request = try chatRequest(#"{"model":"claude-sonnet-4-6","messages":[{"role":"user","content":"Hi"}],"temperature":1.7}"#)
            let outcome = await collect(router.complete(request, route: try registry.route(for: "claude-sonnet-4-6"), apiKey: "sk-ant"))
            #expect(outcome.error == nil)
            #expect(outcome.events == [
                .text("Hello"), .text(" there"), .finish(.stop), .usage(TokenUsage(promptTokens: 38, completionTokens: 89, cachedPromptTokens: 10)),
            ])
            let sent = try #require(mock.requests.first)
            #expect(sent.uri == "/v1/messages")
            #expect(sent.header("x-api-key") == "sk-ant" && sent.header("anthropic-version") == "2026-10-21")
            #expect(sent.header("authorization") == nil)
            let body = try sent.json
            #expect(body["model"] == "claude-sonnet-4-6" && body["stream"] == true)
            #expect(body["max_tokens"] == 4096)
            #expect(body["temperature"] == 1.0)
            #expect(body["messages"] == [["role": "user", "content": [["type": "text", "text": "Hi"]]]])
        }
    }

    @Test func translatesAConversationWithToolsImagesAndToolResults() throws {
        let request = try chatRequest(#"""
            {"model":"claude-haiku-4-5","max_completion_tokens":100,"stop":"STOP","top_p":0.5,"seed":3,
             "messages":[
              {"role":"system","content":"Be brief."},
              {"role":"developer","content":[{"type":"text","text":"Use tools."}]},
              {"role":"user","content":[{"type":"text","text":"Look:"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBO"}},
                                         {"type":"image_url","image_url":{"url":"https://example.com/a.jpg"}}]},
              {"role":"assistant","content":null,"tool_calls":[
                 {"id":"toolu_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},
                 {"id":"toolu_2","type":"function","function":{"name":"get_time","arguments":""}}]},
              {"role":"tool","tool_call_id":"toolu_1","content":"sunny"},
              {"role":"tool","tool_call_id":"toolu_2","content":[{"type":"text","text":"noon"}]},
              {"role":"user","content":"thanks"},
              {"role":"user","content":"and?"}],
             "tools":[{"type":"function","function":{"name":"get_weather","description":"Weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}},
                      {"type":"function","function":{"name":"get_time"}}],
             "tool_choice":"required","parallel_tool_calls":false}
            """#)
        let translation = try AnthropicRequestTranslator.translate(request, route: ModelRegistry().route(for: "claude-haiku-4-5"))
        let body = translation.body
        #expect(translation.structuredOutputTool == nil)
        #expect(body["model"] == "claude-haiku-4-5-20251001")
        #expect(body["system"] == "Be brief.\n\nUse tools.")
        #expect(body["max_tokens"] == 100 && body["stop_sequences"] == ["STOP"] && body["top_p"] == 0.5)
        #expect(body["seed"] == nil && body["temperature"] == nil)
        #expect(body["tool_choice"] == ["type": "any", "disable_parallel_tool_use": true])
        #expect(body["tools"] == [
            ["name": "get_weather", "description": "Weather", "input_schema": ["type": "object", "properties": ["city": ["type": "string"]]]],
            ["name": "get_time", "input_schema": ["type": "object", "properties": [:]]],
        ])
        #expect(body["messages"] == [
            ["role": "user", "content": [
                ["type": "text", "text": "Look:"],
                ["type": "image", "source": ["type": "base64", "media_type": "image/png", "data": "iVBO"]],
                ["type": "image", "source": ["type": "url", "url": "https://example.com/a.jpg"]],
            ]],
            ["role": "assistant", "content": [
                ["type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": ["city": "Paris"]],
                ["type": "tool_use", "id": "toolu_2", "name": "get_time", "input": [:]],
            ]],
            ["role": "user", "content": [
                ["type": "tool_result", "tool_use_id": "toolu_1", "content": "sunny"],
                ["type": "tool_result", "tool_use_id": "toolu_2", "content": "noon"],
                ["type": "text", "text": "thanks"],
                ["type": "text", "text": "and?"],
            ]],
        ])
    }

    @Test(arguments: [
        (#""auto""#, ["type": "auto"]), (#""none""#, ["type": "none"]),
        (#"{"type":"function","function":{"name":"f"}}"#, ["type": "tool", "name": "f"]),
    ] as [(String, JSONValue)])
    func toolChoiceMapping(choice: String, expected: JSONValue) throws {
        let request = try chatRequest(#"{"messages":[],"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":\#(choice)}"#)
        #expect(try AnthropicRequestTranslator.translate(request, route: ModelRegistry().route(for: "claude-opus-4-6")).body["tool_choice"] == expected)
    }

    @Test func rejectsWhatAnthropicCannotDo() throws {
        let route = try ModelRegistry().route(for: "claude-opus-4-6")
        for bad in [
            #"{"messages":[],"response_format":{"type":"json_object"}}"#,
            #"{"messages":[{"role":"assistant","tool_calls":[{"id":"t","function":{"name":"f","arguments":"[1]"}}]}]}"#,
            #"{"messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{}}]}]}"#,
            #"{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"ftp://x"}}]}]}"#,
        ] {
            #expect(throws: ProviderError.self, "\(bad)") { try AnthropicRequestTranslator.translate(chatRequest(bad), route: route) }
        }
        do {
            _ = try AnthropicRequestTranslator.translate(chatRequest(#"{"messages":[],"response_format":{"type":"json_object"}}"#), route: route)
            Issue.record("json_object was accepted")
        } catch let error as ProviderError {
            #expect(error.description.contains("json_schema") && error.httpStatus == 400)
        }
    }

    @Test func parallelToolUseStreamsFragmentsImmediately() async throws {
        let wire = [AnthropicWire.start()] + AnthropicWire.textBlock(0, ["Checking."]) + [
            AnthropicWire.toolStart(1, id: "toolu_a", name: "get_weather"), AnthropicWire.json(1, ""), AnthropicWire.json(1, #"{\"city\":"#),
            AnthropicWire.json(1, #" \"Paris\"}"#), AnthropicWire.stop(1),
            AnthropicWire.toolStart(2, id: "toolu_b", name: "get_time"), AnthropicWire.stop(2),
        ] + AnthropicWire.end("tool_use")
        try await withMock([.sse(wire)]) { _, router, registry in
            let request = try chatRequest(#"{"messages":[{"role":"user","content":"?"}],"tools":[{"type":"function","function":{"name":"get_weather"}}]}"#)
            let outcome = await collect(router.complete(request, route: try registry.route(for: "claude-sonnet-4-6"), apiKey: "k"))
            #expect(outcome.error == nil)
            #expect(outcome.events.prefix(6) == [
                .text("Checking."),
                .toolCall(index: 0, id: "toolu_a", name: "get_weather", arguments: ""),
                .toolCall(index: 0, id: nil, name: nil, arguments: #"{"city":"#),
                .toolCall(index: 0, id: nil, name: nil, arguments: #" "Paris"}"#),
                .toolCall(index: 1, id: "toolu_b", name: "get_time", arguments: ""),
                .toolCall(index: 1, id: nil, name: nil, arguments: "{}"),
            ])
            #expect(outcome.finish == .toolCalls)
            #expect(outcome.accumulator.toolCalls.map(\.arguments) == [#"{"city": "Paris"}"#, "{}"])
        }
    }

    @Test func jsonSchemaBecomesAForcedToolStreamedAsText() async throws {
        let wire = [AnthropicWire.start(), AnthropicWire.toolStart(0, id: "toolu_s", name: "answer"), AnthropicWire.json(0, #"{\"ok\":"#),
                    AnthropicWire.json(0, "true}"), AnthropicWire.stop(0)] + AnthropicWire.end("tool_use")
        try await withMock([.sse(wire)]) { mock, router, registry in
            let request = try chatRequest(#"""
                {"messages":[{"role":"user","content":"ok?"}],"tools":[{"type":"function","function":{"name":"ignored"}}],
                 "response_format":{"type":"json_schema","json_schema":{"name":"answer","strict":true,"schema":{"type":"object","properties":{"ok":{"type":"boolean"}}}}}}
                """#)
            let outcome = await collect(router.complete(request, route: try registry.route(for: "claude-opus-4-5"), apiKey: "k"))
            #expect(outcome.error == nil)
            #expect(outcome.text == #"{"ok":true}"#)
            #expect(outcome.accumulator.toolCalls.isEmpty)
            #expect(outcome.finish == .stop)
            let body = try #require(mock.requests.first).json
            #expect(body["tool_choice"] == ["type": "tool", "name": "answer"])
            #expect(body["tools"]?.arrayValue?.count == 1)
            #expect(body["tools"]?.arrayValue?.first?["input_schema"] == ["type": "object", "properties": ["ok": ["type": "boolean"]]])
        }
    }

    @Test(arguments: [
        ("end_turn", FinishReason.stop), ("max_tokens", .length), ("stop_sequence", .stop), ("refusal", .contentFilter),
        ("tool_use", .toolCalls), ("pause_turn", .stop),
    ])
    func stopReasonMapping(reason: String, expected: FinishReason) throws {
        var decoder = AnthropicStreamDecoder(structuredOutputTool: nil)
        var events: [CompletionEvent] = []
        for wire in [AnthropicWire.start()] + AnthropicWire.end(reason) {
            var parser = SSEParser()
            for event in try parser.feed(Array(wire.utf8)) { events += try decoder.decode(event) }
        }
        #expect(events.first == .finish(expected))
        #expect(try decoder.finish().isEmpty)
    }

    @Test func errorEventEndsTheStreamAfterDeliveredText() async throws {
        let wire = [AnthropicWire.start(), sse(event: "content_block_start", #"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#),
                    sse(event: "content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Par"}}"#),
                    sse(event: "error", #"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#)]
        try await withMock([.sse(wire)]) { _, router, registry in
            let outcome = await collect(router.complete(try chatRequest(#"{"messages":[]}"#), route: try registry.route(for: "claude-sonnet-4-6"), apiKey: "k"))
            #expect(outcome.events == [.text("Par")])
            #expect(outcome.error == .upstreamError(message: "Overloaded"))
            #expect(outcome.error?.httpStatus == 502)
        }
    }
}
