import GatewayCore
import Testing
import UpstreamMock

@testable import Providers

/// OpenAI Chat Completions streaming as documented: unnamed `data:` chunks, `[DONE]` last, the
/// usage-only chunk (`choices: []`) that `stream_options.include_usage` adds before it.
enum OpenAIWire {
    static func chunk(_ delta: String, finish: String? = nil) -> String {
        sse(#"{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4.1","choices":[{"index":0,"delta":\#(delta),"logprobs":null,"finish_reason":\#(finish.map { "\"\($0)\"" } ?? "null")}],"usage":null}"#)
    }
    static let usage = sse(#"{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4.1","choices":[],"usage":{"prompt_tokens":10,"completion_tokens":8,"total_tokens":18,"prompt_tokens_details":{"cached_tokens":4},"completion_tokens_details":{"reasoning_tokens":2}}}"#)
    static let done = sse("[DONE]")

    static let text: [String] = [
        chunk(#"{"role":"assistant","content":""}"#), chunk(#"{"content":"Hello"}"#), chunk(#"{"content":" world"}"#),
        chunk("{}", finish: "stop"), usage, done,
    ]

    /// Two parallel calls whose argument fragments interleave.
    static let parallelTools: [String] = [
        chunk(#"{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"get_weather","arguments":""}}]}"#),
        chunk(#"{"tool_calls":[{"index":1,"id":"call_b","type":"function","function":{"name":"get_time","arguments":""}}]}"#),
        chunk(#"{"tool_calls":[{"index":0,"function":{"arguments":"{\"location\":"}}]}"#),
        chunk(#"{"tool_calls":[{"index":1,"function":{"arguments":"{\"zone\":\"CET\"}"}}]}"#),
        chunk(#"{"tool_calls":[{"index":0,"function":{"arguments":"\"Paris\"}"}}]}"#),
        chunk("{}", finish: "tool_calls"), usage, done,
    ]
}

@Suite struct OpenAIProviderTests {
    @Test func streamsTextFinishAndUsageAndSendsTheTranslatedRequest() async throws {
        try await withMock([.sse(OpenAIWire.text)]) { mock, router, registry in
            let request = try chatRequest(#"""
                {"model":"GPT-5","messages":[{"role":"user","content":"Hi"}],"temperature":0.5,"top_p":0.9,"max_tokens":50,"stop":["END"],
                 "seed":7,"n":1,"reasoning_effort":"low","user":"u1","frequency_penalty":0.1,"stream":false}
                """#)
            let outcome = await collect(router.complete(request, route: try registry.route(for: "GPT-5"), apiKey: "sk-test"))
            #expect(outcome.error == nil)
            #expect(outcome.events == [
                .text("Hello"), .text(" world"), .finish(.stop),
                .usage(TokenUsage(promptTokens: 10, completionTokens: 8, cachedPromptTokens: 4, reasoningTokens: 2)),
            ])
            let sent = try #require(mock.requests.first)
            #expect(sent.method == "POST" && sent.uri == "/v1/chat/completions")
            #expect(sent.header("authorization") == "Bearer sk-test")
            let body = try sent.json
            #expect(body["model"] == "gpt-5")
            #expect(body["stream"] == true)
            #expect(body["stream_options"] == ["include_usage": true])
            #expect(body["max_completion_tokens"] == 50 && body["max_tokens"] == nil)
            #expect(body["temperature"] == 0.5 && body["top_p"] == 0.9 && body["seed"] == 7)
            #expect(body["stop"] == ["END"] && body["reasoning_effort"] == "low")
            #expect(body["messages"] == [["role": "user", "content": "Hi"]])
            // Every other field goes through as sent; `n` is the gateway's (always 1).
            #expect(body["user"] == "u1" && body["frequency_penalty"] == 0.1 && body["n"] == nil)
        }
    }

    @Test func forcedTemperatureReplacesTheClients() throws {
        let route = try ModelRegistry().route(for: "o4-mini")
        let body = try OpenAIRequestBuilder.body(chatRequest(#"{"messages":[],"temperature":0.2}"#), route: route)
        #expect(body["temperature"] == 1.0)
    }

    @Test func parallelToolCallsWithInterleavedFragments() async throws {
        try await withMock([.sse(OpenAIWire.parallelTools)]) { mock, router, registry in
            let request = try chatRequest(#"""
                {"model":"gpt-4.1","messages":[{"role":"user","content":"weather and time?"}],
                 "tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object"}}},
                          {"type":"function","function":{"name":"get_time","parameters":{"type":"object"}}}],
                 "tool_choice":"auto","parallel_tool_calls":true}
                """#)
            let outcome = await collect(router.complete(request, route: try registry.route(for: "gpt-4.1"), apiKey: "k"))
            #expect(outcome.error == nil)
            #expect(outcome.events.prefix(5) == [
                .toolCall(index: 0, id: "call_a", name: "get_weather", arguments: ""),
                .toolCall(index: 1, id: "call_b", name: "get_time", arguments: ""),
                .toolCall(index: 0, id: nil, name: nil, arguments: #"{"location":"#),
                .toolCall(index: 1, id: nil, name: nil, arguments: #"{"zone":"CET"}"#),
                .toolCall(index: 0, id: nil, name: nil, arguments: #""Paris"}"#),
            ])
            #expect(outcome.accumulator.toolCalls == [
                ToolCall(id: "call_a", name: "get_weather", arguments: #"{"location":"Paris"}"#),
                ToolCall(id: "call_b", name: "get_time", arguments: #"{"zone":"CET"}"#),
            ])
            #expect(outcome.finish == .toolCalls)
            let body = try #require(mock.requests.first).json
            #expect(body["tool_choice"] == "auto" && body["parallel_tool_calls"] == true)
            #expect(body["tools"]?.arrayValue?.count == 2)
            #expect(body["max_completion_tokens"] == nil)
        }
    }

    @Test func structuredOutputIsForwardedAndStreamedAsText() async throws {
        let json = #"{\"city\":\"Paris\"}"#
        try await withMock([.sse([OpenAIWire.chunk(#"{"content":"\#(json)"}"#), OpenAIWire.chunk("{}", finish: "stop"), OpenAIWire.done])]) {
            mock, router, registry in
            let request = try chatRequest(#"""
                {"model":"gpt-4.1","messages":[{"role":"user","content":"city"}],
                 "response_format":{"type":"json_schema","json_schema":{"name":"c","schema":{"type":"object","properties":{"city":{"type":"string"}}}}}}
                """#)
            let outcome = await collect(router.complete(request, route: try registry.route(for: "gpt-4.1"), apiKey: "k"))
            #expect(outcome.text == #"{"city":"Paris"}"#)
            #expect(outcome.usage == nil && outcome.finish == .stop && outcome.error == nil)
            #expect(try #require(mock.requests.first).json["response_format"]?["type"] == "json_schema")
        }
    }

    @Test(arguments: [("length", FinishReason.length), ("content_filter", .contentFilter), ("function_call", .toolCalls), ("stop", .stop)])
    func finishReasonMapping(wire: String, expected: FinishReason) throws {
        var decoder = OpenAIStreamDecoder()
        #expect(try decoder.decode(SSEEvent(data: #"{"choices":[{"index":0,"delta":{},"finish_reason":"\#(wire)"}]}"#)) == [.finish(expected)])
    }

    @Test func xAIByteDanceAndConfiguredServersUseTheirBaseURLsAndIgnoreReasoning() async throws {
        let reasoning = OpenAIWire.chunk(#"{"reasoning_content":"thinking…"}"#)
        let replies = Array(repeating: MockUpstream.Reply.sse([reasoning] + OpenAIWire.text), count: 3)
        try await withMock(replies) { mock, router, registry in
            let request = try chatRequest(#"{"model":"x","messages":[{"role":"user","content":"Hi"}],"max_completion_tokens":9}"#)
            for (model, key) in [("grok-4", "xai-key"), ("seed-1.8", "ark-key"), ("my-llama", "ignored")] {
                let outcome = await collect(router.complete(request, route: try registry.route(for: model), apiKey: key))
                #expect(outcome.text == "Hello world" && outcome.error == nil, "\(model)")
            }
            let sent = mock.requests
            #expect(sent.map(\.uri) == ["/xai/v1/chat/completions", "/api/v3/chat/completions", "/compat/v1/chat/completions"])
            #expect(sent.map { $0.header("authorization") } == ["Bearer xai-key", "Bearer ark-key", nil])
            #expect(try sent.map { try $0.json["model"] } == ["grok-4", "seed-1-8-251228", "llama-3.1-8b"])
            #expect(try sent[0].json["max_tokens"] == 9)
        }
    }

    @Test func missingKeyAndNAbove1FailBeforeAnyRequest() async throws {
        try await withMock([]) { mock, router, registry in
            let route = try registry.route(for: "gpt-4.1")
            let request = try chatRequest(#"{"messages":[{"role":"user","content":"Hi"}]}"#)
            #expect(await collect(router.complete(request, route: route, apiKey: nil)).error == .missingCredentials(provider: "openai"))
            #expect(await collect(router.complete(request, route: route, apiKey: "")).error == .missingCredentials(provider: "openai"))
            let two = try chatRequest(#"{"messages":[{"role":"user","content":"Hi"}],"n":2}"#)
            let error = await collect(router.complete(two, route: route, apiKey: "k")).error
            #expect(error?.httpStatus == 400)
            #expect(mock.requests.isEmpty)
        }
    }
}
