import Foundation
import GatewayCore
import Testing
import UpstreamMock

/// Recorded fixtures: for each scenario (system and multi-turn, sampling, tools auto/forced/none,
/// tool results, structured output, images, streaming, thinking) the upstream request the
/// gateway sends is compared, field by field, with the request the provider's own SDK
/// (google-genai, anthropic, openai — `Clients/sdk_requests.py`) sends for the same scenario
/// to the same recording server. Every difference must be one listed here with its reason; a
/// listed difference that no longer occurs fails too, so the list stays true.
@Suite("upstream requests compared with the official SDKs'", .serialized)
struct SDKComparisonTests {
    struct Scenario {
        let name: String
        /// The OpenAI-dialect body a client sends to the gateway.
        let gateway: String
        /// JSON paths where the gateway's upstream body may differ from the SDK's, with why.
        var known: [String: String] = [:]
    }

    static let chat = #"[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello!"},{"role":"user","content":"Weather in Paris?"}]"#
    static let fn = #"[{"type":"function","function":{"name":"get_weather","description":"Weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}]"#
    static let schema = #"{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}"#
    static let image = #"[{"role":"user","content":[{"type":"text","text":"What is this?"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}}]}]"#

    static func body(_ model: String, _ messages: String = chat, _ extra: String = "") -> String {
        #"{"model":"\#(model)","messages":\#(messages)\#(extra.isEmpty ? "" : ",")\#(extra)}"#
    }

    static func toolTurns(id: String, result: String) -> String {
        String(chat.dropLast())
            + #",{"role":"assistant","content":null,"tool_calls":[{"id":"\#(id)","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},{"role":"tool","tool_call_id":"\#(id)","content":\#(result)}]"#
    }

    /// Gemini: the gateway always streams (`:streamGenerateContent?alt=sse`, a URL difference, not
    /// a body one).
    static let gemini: [Scenario] = {
        let m = "gemini-3-pro-preview"
        let system = ["systemInstruction": "google-genai puts role 'user' inside systemInstruction; the API ignores a role there, the gateway sends none"]
        let tools = system.merging(["tools": "google-genai 3.6 writes the proto field name parameters_json_schema; the gateway writes its JSON name parametersJsonSchema (proto3 JSON parsers accept both)"]) { $1 }
        return [
            Scenario(name: "system, multi-turn, sampling", gateway: body(m, chat, #""temperature":0.5,"top_p":0.9,"max_tokens":100,"stop":["END"],"seed":7,"presence_penalty":0.4,"frequency_penalty":0.2"#), known: system),
            Scenario(name: "tools auto", gateway: body(m, chat, #""tools":\#(fn),"tool_choice":"auto""#), known: tools),
            Scenario(name: "tools forced", gateway: body(m, chat, #""tools":\#(fn),"tool_choice":{"type":"function","function":{"name":"get_weather"}}"#), known: tools),
            Scenario(name: "tools none", gateway: body(m, chat, #""tools":\#(fn),"tool_choice":"none""#), known: tools),
            Scenario(name: "tool results", gateway: body(m, toolTurns(id: "call_1__ts__c2lnLWJ5dGVz", result: #""{\"temp\":21}""#), #""tools":\#(fn)"#), known: tools),
            Scenario(name: "structured output", gateway: body(m, chat, #""response_format":{"type":"json_schema","json_schema":{"name":"answer","schema":\#(schema),"strict":true}}"#), known: system),
            Scenario(name: "image", gateway: body(m, image), known: [
                "contents": "google-genai writes inlineData.mime_type (proto name), the gateway mimeType (JSON name); both are accepted"]),
            Scenario(name: "streaming", gateway: body(m, chat, #""stream":true,"temperature":0.5"#), known: system),
            Scenario(name: "thinking", gateway: body(m, chat, #""reasoning_effort":"high""#), known: system.merging([
                "generationConfig": "google-genai writes thinkingConfig.thinking_level (proto name), the gateway thinkingLevel (JSON name); same value HIGH"]) { $1 }),
        ]
    }()

    /// Anthropic through the chat surface (translated); the gateway always streams upstream.
    static let anthropic: [Scenario] = {
        let m = "claude-haiku-4-5"
        let messages = ["messages": "a string content is sent as one text block (so consecutive same-role turns can merge); Anthropic treats both alike"]
        let stream = messages.merging(["stream": "the gateway always streams upstream and renders non-streamed answers from the events"]) { $1 }
        return [
            Scenario(name: "system, multi-turn, sampling", gateway: body(m, chat, #""temperature":0.5,"max_tokens":100,"stop":["END"]"#), known: stream),
            Scenario(name: "tools auto", gateway: body(m, chat, #""max_tokens":100,"tools":\#(fn),"tool_choice":"auto""#), known: stream),
            Scenario(name: "tools forced", gateway: body(m, chat, #""max_tokens":100,"tools":\#(fn),"tool_choice":{"type":"function","function":{"name":"get_weather"}}"#), known: stream),
            Scenario(name: "tools none", gateway: body(m, chat, #""max_tokens":100,"tools":\#(fn),"tool_choice":"none""#), known: stream),
            Scenario(name: "tool results", gateway: body(m, toolTurns(id: "toolu_1", result: #""21C""#), #""max_tokens":100,"tools":\#(fn)"#), known: stream),
            Scenario(name: "structured output", gateway: body(m, chat, #""max_tokens":100,"response_format":{"type":"json_schema","json_schema":{"name":"answer","schema":\#(schema),"strict":true}}"#), known: stream),
            Scenario(name: "image", gateway: body(m, image, #""max_tokens":100"#), known: ["stream": stream["stream"]!]),
            Scenario(name: "streaming", gateway: body(m, chat, #""max_tokens":100,"temperature":0.5,"stream":true"#), known: messages),
            Scenario(name: "thinking", gateway: body(m, chat, #""reasoning_effort":"high""#), known: stream),
        ]
    }()

    /// OpenAI: the chat surface is OpenAI's own, so the body is the client's; the gateway streams
    /// upstream with usage.
    static let openAI: [Scenario] = {
        let m = "gpt-4.1"
        let stream = [
            "stream": "the gateway always streams upstream and renders non-streamed answers from the events",
            "stream_options": "usage is always requested upstream (pricing)",
        ]
        return [
            Scenario(name: "system, multi-turn, sampling", gateway: body(m, chat, #""temperature":0.5,"top_p":0.9,"max_completion_tokens":100,"stop":["END"],"seed":7,"presence_penalty":0.4,"frequency_penalty":0.2"#), known: stream),
            Scenario(name: "tools auto", gateway: body(m, chat, #""tools":\#(fn),"tool_choice":"auto""#), known: stream),
            Scenario(name: "tools forced", gateway: body(m, chat, #""tools":\#(fn),"tool_choice":{"type":"function","function":{"name":"get_weather"}}"#), known: stream),
            Scenario(name: "tools none", gateway: body(m, chat, #""tools":\#(fn),"tool_choice":"none""#), known: stream),
            Scenario(name: "tool results", gateway: body(m, toolTurns(id: "call_1", result: #""21C""#), #""tools":\#(fn)"#), known: stream),
            Scenario(name: "structured output", gateway: body(m, chat, #""response_format":{"type":"json_schema","json_schema":{"name":"answer","schema":\#(schema),"strict":true}}"#), known: stream),
            Scenario(name: "image", gateway: body(m, image), known: stream),
            Scenario(name: "streaming", gateway: body(m, chat, #""temperature":0.5,"stream":true,"stream_options":{"include_usage":true}"#)),
            Scenario(name: "thinking", gateway: body(m, chat, #""reasoning_effort":"high""#), known: stream),
        ]
    }()

    static let geminiAnswer = [sse(#"{"candidates":[{"content":{"role":"model","parts":[{"text":"ok"}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":1,"candidatesTokenCount":1}}"#)]
    static let claudeAnswer = [
        sse(event: "message_start", #"{"type":"message_start","message":{"usage":{"input_tokens":1,"output_tokens":1}}}"#),
        sse(event: "content_block_start", #"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":"ok"}}"#),
        sse(event: "content_block_stop", #"{"type":"content_block_stop","index":0}"#),
        sse(event: "message_delta", #"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":1}}"#),
        sse(event: "message_stop", #"{"type":"message_stop"}"#),
    ]

    @Test func gatewayRequestsMatchTheOfficialSDKs() async throws {
        let all = Self.gemini + Self.anthropic + Self.openAI
        let placeholders = [MockUpstream.Reply](repeating: .json(status: 200, "{}"), count: all.count)
        let answers = Array(repeating: MockUpstream.Reply.sse(Self.geminiAnswer), count: Self.gemini.count)
            + Array(repeating: .sse(Self.claudeAnswer), count: Self.anthropic.count)
            + Array(repeating: .sse(OpenAIWire.hello), count: Self.openAI.count)
        try await withUpstreamWorker(placeholders + answers) { worker, mock in
            let result = try await runPython(script("sdk_requests.py"), [mock.baseURL])
            try #require(
                result.status == 0 && mock.requests.count == all.count,
                "sdk_requests.py: \(result.stdout) \(result.stderr) recorded: \(mock.requests.map { "\($0.method) \($0.uri)" })")
            for scenario in all {
                let reply = try await worker.client.send(.POST, "/v1/chat/completions", body: .json(scenario.gateway))
                #expect(reply.status == 200, "\(scenario.name): \(reply.text)")
            }
            let recorded = mock.requests
            try #require(recorded.count == 2 * all.count)
            for (i, scenario) in all.enumerated() {
                let provider = i < Self.gemini.count ? "gemini" : i < Self.gemini.count + Self.anthropic.count ? "anthropic" : "openai"
                let sdk = recorded[i]
                let ours = recorded[all.count + i]
                #expect(path(sdk.uri) == path(ours.uri), "\(provider) \(scenario.name): \(sdk.uri) vs \(ours.uri)")
                var differences = Set<String>()
                compare(try sdk.json, try ours.json, at: "", into: &differences)
                differences.remove("model")  // the SDK names the provider id; the gateway maps the client's id to it
                #expect(
                    differences == Set(scenario.known.keys),
                    "\(provider) \(scenario.name): differs at \(differences.sorted()), documented \(scenario.known.keys.sorted())\nSDK: \(String(decoding: sdk.body, as: UTF8.self))\nours: \(String(decoding: ours.body, as: UTF8.self))")
            }
        }
    }

    /// The path without the query; Gemini's `:generateContent` counts as `:streamGenerateContent`
    /// (the gateway always streams upstream: a documented difference).
    private func path(_ uri: String) -> String {
        String(uri.split(separator: "?")[0]).replacingOccurrences(of: ":generateContent", with: ":streamGenerateContent")
    }

    /// Top-level keys whose values differ, ignoring key order (JSON objects are unordered).
    private func compare(_ a: JSONValue, _ b: JSONValue, at path: String, into differences: inout Set<String>) {
        guard case .object(let left) = a, case .object(let right) = b else {
            if !same(a, b) { differences.insert(path) }
            return
        }
        for key in Set(left.keys).union(right.keys) {
            guard let l = left[key], let r = right[key], same(l, r) else {
                differences.insert(path.isEmpty ? key : "\(path).\(key)")
                continue
            }
        }
    }

    private func same(_ a: JSONValue, _ b: JSONValue) -> Bool {
        JSONWriter.serialize(a, style: .canonical) == JSONWriter.serialize(b, style: .canonical)
    }
}
