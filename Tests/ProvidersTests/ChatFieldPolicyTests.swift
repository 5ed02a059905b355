import GatewayCore
import Testing
import UpstreamMock

@testable import Providers

/// The one rule, field by field, against a recording upstream: every field in
/// ``ChatFieldPolicy``'s tables either arrives (unchanged, or translated as documented) or is
/// refused with an error naming it before anything is sent. The expectations below must cover
/// every entry of the tables, so a new entry without a test fails here.
@Suite struct ChatFieldPolicyTests {
    static let base = #"{"messages":[{"role":"user","content":"Hi"}]"#

    /// A sample value for every documented OpenAI field (the policy's subjects).
    static let samples: [String: String] = [
        "temperature": "0.5", "top_p": "0.9", "max_tokens": "50", "max_completion_tokens": "60", "stop": #"["END"]"#,
        "seed": "7", "presence_penalty": "0.4", "frequency_penalty": "-0.3", "logit_bias": #"{"50256":-100}"#,
        "logprobs": "true", "top_logprobs": "3", "user": #""user-42""#, "safety_identifier": #""hashed-42""#,
        "metadata": #"{"team":"a"}"#, "store": "false", "service_tier": #""default""#,
        "prediction": #"{"type":"content","content":"Hi"}"#, "modalities": #"["text"]"#,
        "audio": #"{"voice":"alloy","format":"wav"}"#, "web_search_options": #"{"search_context_size":"low"}"#,
        "verbosity": #""low""#, "reasoning_effort": #""high""#, "parallel_tool_calls": "true",
        "response_format": #"{"type":"json_object"}"#,
        "tools": #"[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}]"#,
        "tool_choice": #""auto""#, "a_future_field": #"{"x":1}"#,
    ]

    func request(model: String, _ field: String) throws -> JSONObject {
        var extra = ",\"\(field)\":\(Self.samples[field]!)"
        if field == "tool_choice" || field == "parallel_tool_calls" { extra += ",\"tools\":\(Self.samples["tools"]!)" }
        if field == "top_logprobs" { extra += ",\"logprobs\":true" }
        return try chatRequest(#"{"model":"\#(model)","# + String(Self.base.dropFirst()) + extra + "}")
    }

    static let openAIStream = [OpenAIWire.chunk(#"{"content":"ok"}"#), OpenAIWire.chunk("{}", finish: "stop"), OpenAIWire.usage, OpenAIWire.done]

    /// OpenAI-compatible upstreams get every field as sent, unknown ones included; only the output
    /// limit is respelled (max_completion_tokens for OpenAI). Audio output is the exception: it
    /// would come back as deltas the gateway neither relays nor signs, so it is refused by name.
    @Test(arguments: samples.keys.sorted().filter { $0 != "audio" })
    func openAIReceivesEveryFieldUnchanged(_ field: String) async throws {
        try await withMock([.sse(Self.openAIStream)]) { mock, router, registry in
            let outcome = await collect(router.complete(try request(model: "gpt-4.1", field), route: try registry.route(for: "gpt-4.1"), apiKey: "k"))
            #expect(outcome.error == nil, "\(field): \(String(describing: outcome.error))")
            let body = try #require(mock.requests.first).json
            let sent = try JSONParser().parse(Self.samples[field]!)
            let key = field == "max_tokens" ? "max_completion_tokens" : field
            #expect(body[key] == sent, "\(field) arrived as \(String(describing: body[key]))")
            if field == "max_tokens" { #expect(body["max_tokens"] == nil) }
        }
    }

    @Test func openAIAudioOutputIsRefusedByName() async throws {
        try await withMock([]) { mock, router, registry in
            let route = try registry.route(for: "gpt-4.1")
            let audio = await collect(router.complete(try request(model: "gpt-4.1", "audio"), route: route, apiKey: "k"))
            guard case .unsupportedField("audio", _)? = audio.error else { Issue.record("\(String(describing: audio.error))"); return }
            let modalities = try chatRequest(#"{"model":"gpt-4.1","messages":[{"role":"user","content":"Hi"}],"modalities":["text","audio"]}"#)
            let refused = await collect(router.complete(modalities, route: route, apiKey: "k"))
            guard case .unsupportedField("modalities", _)? = refused.error else { Issue.record("\(String(describing: refused.error))"); return }
            #expect(mock.requests.isEmpty)
        }
    }

    /// Where each Anthropic-translated field lands in Anthropic's body.
    static let anthropicTranslations: [String: (path: [String], value: String)] = [
        "temperature": (["temperature"], "0.5"), "top_p": (["top_p"], "0.9"), "max_tokens": (["max_tokens"], "50"),
        "max_completion_tokens": (["max_tokens"], "60"), "stop": (["stop_sequences"], #"["END"]"#),
        "user": (["metadata", "user_id"], #""user-42""#), "safety_identifier": (["metadata", "user_id"], #""hashed-42""#),
        "service_tier": (["service_tier"], #""standard_only""#),
        "reasoning_effort": (["thinking"], #"{"type":"enabled","budget_tokens":16384}"#),
        "parallel_tool_calls": (["tool_choice"], #"{"type":"auto"}"#),
        "tools": (["tools"], #"[{"name":"f","input_schema":{"type":"object"}}]"#),
        "tool_choice": (["tool_choice"], #"{"type":"auto"}"#),
    ]

    /// Where each Gemini-translated field lands in Gemini's body.
    static let geminiTranslations: [String: (path: [String], value: String)] = [
        "temperature": (["generationConfig", "temperature"], "0.5"), "top_p": (["generationConfig", "topP"], "0.9"),
        "max_tokens": (["generationConfig", "maxOutputTokens"], "50"),
        "max_completion_tokens": (["generationConfig", "maxOutputTokens"], "60"),
        "stop": (["generationConfig", "stopSequences"], #"["END"]"#), "seed": (["generationConfig", "seed"], "7"),
        "presence_penalty": (["generationConfig", "presencePenalty"], "0.4"),
        "frequency_penalty": (["generationConfig", "frequencyPenalty"], "-0.3"),
        "response_format": (["generationConfig", "responseMimeType"], #""application/json""#),
        "reasoning_effort": (["generationConfig", "thinkingConfig"], #"{"thinkingLevel":"HIGH"}"#),
        "tools": (["tools"], #"[{"functionDeclarations":[{"name":"f","parametersJsonSchema":{"type":"object"}}]}]"#),
        "tool_choice": (["toolConfig", "functionCallingConfig", "mode"], #""AUTO""#),
        "parallel_tool_calls": (["toolConfig", "functionCallingConfig", "mode"], #""AUTO""#),
    ]

    static let anthropicStream = [AnthropicWire.start()] + AnthropicWire.textBlock(0, ["ok"]) + AnthropicWire.end("end_turn")
    static let geminiStream = [GeminiWire.chunk(#"[{"text":"ok"}]"#, finish: "STOP")]

    @Test(arguments: samples.keys.sorted())
    func anthropicTranslatesOrRefusesByName(_ field: String) async throws {
        try await check(field, model: "claude-haiku-4-5", target: .anthropic, translations: Self.anthropicTranslations, wire: Self.anthropicStream)
    }

    @Test(arguments: samples.keys.sorted())
    func geminiTranslatesOrRefusesByName(_ field: String) async throws {
        try await check(field, model: "gemini-3-pro-preview", target: .gemini, translations: Self.geminiTranslations, wire: Self.geminiStream)
    }

    private func check(
        _ field: String, model: String, target: ChatFieldPolicy.Target, translations: [String: (path: [String], value: String)],
        wire: [String]
    ) async throws {
        try await withMock([.sse(wire)]) { mock, router, registry in
            let outcome = await collect(router.complete(try request(model: model, field), route: try registry.route(for: model), apiKey: "k"))
            var refused = false
            if case .refuse = ChatFieldPolicy.disposition(field, for: target) { refused = true }
            // A translated field can still refuse a value it has no translation for (json_object for Claude).
            switch refused || translations[field] == nil {
            case true:
                guard case .unsupportedField(let named, let reason)? = outcome.error else {
                    Issue.record("\(field) was not refused by name: \(String(describing: outcome.error))")
                    return
                }
                #expect(named == field && reason.contains("'\(field)'"))
                #expect(mock.requests.isEmpty, "\(field): a refused request still reached the provider")
                #expect(translations[field] == nil, "\(field) is refused but the test expects a translation")
            case false:
                #expect(outcome.error == nil, "\(field): \(String(describing: outcome.error))")
                let expected = try #require(translations[field], "\(field) is forwarded but the test has no expectation for it")
                var value: JSONValue? = try #require(mock.requests.first).json
                for key in expected.path { value = value?[key] }
                #expect(value == (try JSONParser().parse(expected.value)), "\(field) arrived as \(String(describing: value))")
            }
        }
    }

    /// Claude 4.5 and later reject temperature with top_p; the pair is refused naming top_p, and
    /// neither is invented when absent.
    @Test func claudeGetsOneSamplingParameterAndNoInventedDefaults() async throws {
        try await withMock([.sse(Self.anthropicStream)]) { mock, router, registry in
            let both = try chatRequest(#"{"model":"claude-opus-4-6","messages":[{"role":"user","content":"Hi"}],"temperature":0.2,"top_p":0.9}"#)
            let refused = await collect(router.complete(both, route: try registry.route(for: "claude-opus-4-6"), apiKey: "k"))
            guard case .unsupportedField(let field, _)? = refused.error else { Issue.record("not refused: \(String(describing: refused.error))"); return }
            #expect(field == "top_p")
            let onlyTopP = try chatRequest(#"{"model":"claude-opus-4-6","messages":[{"role":"user","content":"Hi"}],"top_p":0.9}"#)
            #expect(await collect(router.complete(onlyTopP, route: try registry.route(for: "claude-opus-4-6"), apiKey: "k")).error == nil)
            let body = try #require(mock.requests.first).json
            #expect(body["top_p"] == 0.9 && body["temperature"] == nil)
        }
        #expect(AnthropicRequestTranslator.oneSamplingParameter("claude-haiku-4-5-20251001"))
        #expect(AnthropicRequestTranslator.oneSamplingParameter("claude-opus-4-6"))
        #expect(!AnthropicRequestTranslator.oneSamplingParameter("claude-3-7-sonnet-20250219"))
        #expect(!AnthropicRequestTranslator.oneSamplingParameter("claude-opus-4-1-20250805"))
        #expect(AnthropicRequestTranslator.oneSamplingParameter("claude-sonnet-5"))
    }

    /// Gemini 3's thoughtSignature rides in the tool-call id and comes back on the replayed part.
    @Test func geminiThoughtSignatureSurvivesTheOpenAISurface() async throws {
        let signature = "CiQB+/9zAA=="
        let call = GeminiWire.chunk(#"[{"functionCall":{"name":"f","args":{"a":1}},"thoughtSignature":"\#(signature)"}]"#, finish: "STOP")
        try await withMock([.sse([call]), .sse(Self.geminiStream)]) { mock, router, registry in
            let route = try registry.route(for: "gemini-3-pro-preview")
            let first = try chatRequest(#"{"model":"gemini-3-pro-preview","messages":[{"role":"user","content":"Hi"}],"tools":\#(Self.samples["tools"]!)}"#)
            let outcome = await collect(router.complete(first, route: route, apiKey: "k"))
            let id = try #require(outcome.accumulator.toolCalls.first?.id)
            #expect(id.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }, "\(id) is not a portable id")
            #expect(GeminiThoughtSignature.split(id).signature == signature)
            let replay = try chatRequest(#"""
                {"model":"gemini-3-pro-preview","tools":\#(Self.samples["tools"]!),"messages":[{"role":"user","content":"Hi"},
                 {"role":"assistant","content":null,"tool_calls":[{"id":"\#(id)","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}}]},
                 {"role":"tool","tool_call_id":"\#(id)","content":"{\"r\":2}"}]}
                """#)
            #expect(await collect(router.complete(replay, route: route, apiKey: "k")).error == nil)
            let body = try mock.requests[1].json
            let part = body["contents"]?.arrayValue?[1]["parts"]?.arrayValue?.first
            #expect(part?["thoughtSignature"] == .string(signature))
            #expect(part?["functionCall"] == ["name": "f", "args": ["a": 1]])
        }
    }

    /// OpenAI's per-token logprobs come back as events (the API layer returns them).
    @Test func openAILogprobsBecomeEvents() async throws {
        let entry = #"{"token":"ok","logprob":-0.01,"bytes":[111,107],"top_logprobs":[]}"#
        let wire = [
            sse(#"{"id":"c","object":"chat.completion.chunk","created":1,"model":"gpt-4.1","choices":[{"index":0,"delta":{"content":"ok"},"logprobs":{"content":[\#(entry)]},"finish_reason":null}]}"#),
            OpenAIWire.chunk("{}", finish: "stop"), OpenAIWire.usage, OpenAIWire.done,
        ]
        try await withMock([.sse(wire)]) { _, router, registry in
            let outcome = await collect(router.complete(try request(model: "gpt-4.1", "logprobs"), route: try registry.route(for: "gpt-4.1"), apiKey: "k"))
            #expect(outcome.accumulator.logprobs == [try JSONParser().parse(entry)])
            #expect(outcome.text == "ok")
        }
    }

    @Test func tablesAreCoveredByTheseTests() {
        for field in ChatFieldPolicy.anthropic.keys { #expect(Self.samples[field] != nil, "no sample for Anthropic's \(field)") }
        for field in ChatFieldPolicy.gemini.keys { #expect(Self.samples[field] != nil, "no sample for Gemini's \(field)") }
    }

    @Test func retiredModelsAreNamed() {
        #expect(throws: UnknownModelError.self) { try ModelRegistry().route(for: "claude-sonnet-4-0") }
        do {
            _ = try ModelRegistry().route(for: "claude-sonnet-4-6")
        } catch {
            #expect(error.retiredInFavourOf == "claude-sonnet-4-6")
            #expect(error.description.contains("'claude-sonnet-4-6'") && error.description.contains("retired"))
        }
    }
}
