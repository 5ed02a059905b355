import GatewayCore
import Testing
import UpstreamMock

@testable import Providers

/// Gemini `streamGenerateContent?alt=sse`: one GenerateContentResponse per `data:` line, no
/// terminator, cumulative `usageMetadata`.
enum GeminiWire {
    static func chunk(_ parts: String, finish: String? = nil, usage: (Int, Int)? = (12, 3)) -> String {
        var fields = [#""candidates":[{"content":{"role":"model","parts":\#(parts)},"index":0\#(finish.map { #","finishReason":"\#($0)""# } ?? "")}]"#]
        if let usage { fields.append(#""usageMetadata":{"promptTokenCount":\#(usage.0),"candidatesTokenCount":\#(usage.1),"totalTokenCount":\#(usage.0 + usage.1)}"#) }
        fields.append(#""modelVersion":"gemini-2.5-flash","responseId":"r1""#)
        return sse("{" + fields.joined(separator: ",") + "}")
    }
    static let text = [
        chunk(#"[{"text":"Hel"}]"#, usage: (12, 1)), chunk(#"[{"text":"thinking","thought":true},{"text":"lo"}]"#, usage: (12, 2)),
        chunk(#"[{"text":"!"}]"#, finish: "STOP", usage: (12, 3)),
    ]
}

@Suite struct GeminiProviderTests {
    @Test func streamsTextAndTakesTheLatestUsage() async throws {
        try await withMock([.sse(GeminiWire.text)]) { mock, router, registry in
            let request = try chatRequest(#"""
                {"model":"gemini-2.5-pro","messages":[{"role":"system","content":"Be nice."},{"role":"user","content":"Hi"}],
                 "temperature":0.3,"top_p":0.8,"max_tokens":64,"stop":["X","Y"],"seed":5,"response_format":{"type":"json_object"}}
                """#)
            let outcome = await collect(router.complete(request, route: try registry.route(for: "gemini-2.5-pro"), apiKey: "g-key"))
            #expect(outcome.error == nil)
            #expect(outcome.events == [.text("Hel"), .text("lo"), .text("!"), .finish(.stop), .usage(TokenUsage(promptTokens: 12, completionTokens: 3))])
            let sent = try #require(mock.requests.first)
            #expect(sent.uri == "/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse")
            #expect(sent.header("x-goog-api-key") == "g-key" && sent.header("authorization") == nil)
            let body = try sent.json
            #expect(body["systemInstruction"] == ["parts": [["text": "Be nice."]]])
            #expect(body["contents"] == [["role": "user", "parts": [["text": "Hi"]]]])
            #expect(body["generationConfig"] == [
                "temperature": 0.3, "topP": 0.8, "maxOutputTokens": 64, "stopSequences": ["X", "Y"], "seed": 5,
                "responseMimeType": "application/json", "thinkingConfig": ["thinkingBudget": 128],
            ])
        }
    }

    @Test func translatesToolHistoryAndStructuredOutput() throws {
        let request = try chatRequest(#"""
            {"messages":[
              {"role":"user","content":[{"type":"text","text":"Look"},{"type":"image_url","image_url":{"url":"data:image/jpeg;base64,/9j/"}}]},
              {"role":"assistant","content":"On it.","tool_calls":[{"id":"c1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Oslo\"}"}}]},
              {"role":"tool","tool_call_id":"c1","content":"{\"temp\":3}"},
              {"role":"assistant","tool_calls":[{"id":"c2","type":"function","function":{"name":"get_time","arguments":"{}"}}]},
              {"role":"tool","tool_call_id":"c2","content":"noon"}],
             "tools":[{"type":"function","function":{"name":"get_weather","description":"W","parameters":{"type":"object","additionalProperties":false}}}],
             "tool_choice":{"type":"function","function":{"name":"get_weather"}},
             "response_format":{"type":"json_schema","json_schema":{"name":"x","schema":{"type":"object"}}}}
            """#)
        let body = try GeminiRequestTranslator.translate(request, route: ModelRegistry().route(for: "gemini-3-flash-preview"))
        #expect(body["contents"] == [
            ["role": "user", "parts": [["text": "Look"], ["inlineData": ["mimeType": "image/jpeg", "data": "/9j/"]]]],
            ["role": "model", "parts": [["text": "On it."], ["functionCall": ["name": "get_weather", "args": ["city": "Oslo"]]]]],
            ["role": "user", "parts": [["functionResponse": ["name": "get_weather", "response": ["temp": 3]]]]],
            ["role": "model", "parts": [["functionCall": ["name": "get_time", "args": [:]]]]],
            ["role": "user", "parts": [["functionResponse": ["name": "get_time", "response": ["content": "noon"]]]]],
        ])
        #expect(body["tools"] == [["functionDeclarations": [["name": "get_weather", "description": "W", "parametersJsonSchema": ["type": "object", "additionalProperties": false]]]]])
        #expect(body["toolConfig"] == ["functionCallingConfig": ["mode": "ANY", "allowedFunctionNames": ["get_weather"]]])
        #expect(body["generationConfig"] == ["responseMimeType": "application/json", "responseJsonSchema": ["type": "object"]])
    }

    @Test func rejectsUnanswerableToolResultsAndRemoteImages() throws {
        let route = try ModelRegistry().route(for: "gemini-2.5-flash")
        #expect(throws: ProviderError.self) {
            try GeminiRequestTranslator.translate(chatRequest(#"{"messages":[{"role":"tool","tool_call_id":"nope","content":"x"}]}"#), route: route)
        }
        #expect(throws: ProviderError.self) {
            try GeminiRequestTranslator.translate(
                chatRequest(#"{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://x/y.png"}}]}]}"#), route: route)
        }
    }

    @Test func parallelFunctionCallsGetIDsAndFinishAsToolCalls() async throws {
        let wire = [GeminiWire.chunk(#"[{"functionCall":{"name":"get_weather","args":{"city":"Oslo"}}},{"functionCall":{"id":"given","name":"get_time","args":{}}}]"#,
                                     finish: "STOP")]
        try await withMock([.sse(wire)]) { _, router, registry in
            let request = try chatRequest(#"{"messages":[{"role":"user","content":"?"}],"tools":[{"type":"function","function":{"name":"get_weather"}}],"tool_choice":"required"}"#)
            let outcome = await collect(router.complete(request, route: try registry.route(for: "gemini-2.5-flash"), apiKey: "k"))
            #expect(outcome.error == nil)
            let calls = outcome.accumulator.toolCalls
            #expect(calls.map(\.name) == ["get_weather", "get_time"])
            #expect(calls.map(\.arguments) == [#"{"city":"Oslo"}"#, "{}"])
            #expect(calls[0].id.hasPrefix("call_") && calls[0].id.count == 29)
            #expect(calls[1].id == "given")
            #expect(outcome.finish == .toolCalls)
        }
    }

    @Test(arguments: [
        ("STOP", FinishReason.stop), ("MAX_TOKENS", .length), ("SAFETY", .contentFilter), ("RECITATION", .contentFilter),
        ("PROHIBITED_CONTENT", .contentFilter), ("BLOCKLIST", .contentFilter), ("SPII", .contentFilter), ("OTHER", .stop),
    ])
    func finishReasonMapping(reason: String, expected: FinishReason) throws {
        var decoder = GeminiStreamDecoder()
        var parser = SSEParser()
        for event in try parser.feed(Array(GeminiWire.chunk(#"[{"text":"a"}]"#, finish: reason).utf8)) { _ = try decoder.decode(event) }
        #expect(try decoder.finish().first == .finish(expected))
    }

    @Test func blockedPromptFinishesWithContentFilter() throws {
        var decoder = GeminiStreamDecoder()
        #expect(try decoder.decode(SSEEvent(data: #"{"promptFeedback":{"blockReason":"SAFETY"},"usageMetadata":{"promptTokenCount":4}}"#)).isEmpty)
        #expect(try decoder.finish() == [.finish(.contentFilter), .usage(TokenUsage(promptTokens: 4, completionTokens: 0))])
    }

    @Test func usageCountsThoughtsAsReasoning() {
        let usage = GeminiStreamDecoder.usage(JSONObject([("promptTokenCount", 10), ("candidatesTokenCount", 5), ("thoughtsTokenCount", 7), ("cachedContentTokenCount", 2)]))
        #expect(usage == TokenUsage(promptTokens: 10, completionTokens: 12, cachedPromptTokens: 2, reasoningTokens: 7))
    }
}
