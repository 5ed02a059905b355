import GatewayCore
import Testing

@testable import InferenceAPI

private let hello = #"{"role":"user","content":"hi"}"#
private let toolUse =
    #"{"role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"city":"Paris"}}]}"#
private let weather = #"{"name":"get_weather","input_schema":{"type":"object"}}"#

private func messages(_ extra: String, messages: String = "[\(hello)]", maxTokens: Int = 100) -> String {
    #"{"model":"claude-sonnet-4-5","max_tokens":\#(maxTokens),"messages":\#(messages)\#(extra.isEmpty ? "" : ",")\#(extra)}"#
}

@Suite struct AnthropicValidationTests {
    static let rejections: [Rejection] = [
        Rejection(body: #"{"model":"c","messages":[\#(hello)]}"#, param: "max_tokens", message: "required"),
        Rejection(body: #"{"model":"c","max_tokens":0,"messages":[\#(hello)]}"#, param: "max_tokens", message: ">= 1"),
        Rejection(body: messages("", messages: "[]"), param: "messages", message: "at least one"),
        Rejection(
            body: messages("", messages: #"[{"role":"system","content":"x"}]"#), param: "messages[0].role",
            message: "top-level 'system'"),
        Rejection(
            body: messages("", messages: #"[{"role":"user","content":""}]"#), param: "messages[0].content",
            message: "non-empty"),
        Rejection(
            body: messages("", messages: #"[{"role":"assistant","content":[]},\#(hello)]"#),
            param: "messages[0].content",
            message: "non-empty"),
        Rejection(
            body: messages("", messages: #"[{"role":"user","content":5}]"#), param: "messages[0].content",
            message: "content blocks"),
        Rejection(
            body: messages("", messages: #"[{"role":"user","content":[{"type":"video"}]}]"#),
            param: "messages[0].content[0].type", message: "'video'"),
        Rejection(
            body: messages("", messages: #"[{"role":"assistant","content":[{"type":"image"}]}]"#),
            param: "messages[0].content[0].type", message: "'image'"),
        Rejection(
            body: messages(
                "",
                messages:
                    #"[{"role":"user","content":[{"type":"image","source":{"type":"base64","media_type":"image/bmp","data":"AA"}}]}]"#
            ),
            param: "messages[0].content[0].source.media_type", message: "'image/bmp'"),
        Rejection(
            body: messages("", messages: #"[{"role":"user","content":[{"type":"image","source":{"type":"url"}}]}]"#),
            param: "messages[0].content[0].source.url", message: "required"),
        Rejection(
            body: messages(
                "", messages: #"[{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_9"}]}]"#),
            param: "messages[0].content[0].tool_use_id", message: "unexpected tool_use_id 'toolu_9'"),
        Rejection(
            body: messages("", messages: "[\(hello),\(toolUse),\(hello)]"), param: "messages[1].content",
            message: "toolu_1"),
        Rejection(
            body: messages("", messages: "[\(hello),\(toolUse),\(toolUse)]"), param: "messages[1].content",
            message: "without tool_result"),
        Rejection(
            body: messages(
                "",
                messages:
                    #"[\#(hello),\#(toolUse),{"role":"user","content":[{"type":"text","text":"x"},{"type":"tool_result","tool_use_id":"toolu_1"}]}]"#
            ),
            param: "messages[2].content[1]", message: "must come before"),
        Rejection(
            body: messages(
                "",
                messages: #"[{"role":"assistant","content":[{"type":"tool_use","id":"t","name":"f","input":"{}"}]}]"#),
            param: "messages[0].content[0].input", message: "object"),
        Rejection(body: messages(#""system":5"#), param: "system", message: "text blocks"),
        Rejection(body: messages(#""system":[{"type":"image"}]"#), param: "system[0].type", message: "'image'"),
        Rejection(body: messages(#""temperature":1.5"#), param: "temperature", message: "between 0 and 1"),
        Rejection(body: messages(#""top_p":-0.1"#), param: "top_p", message: "between 0 and 1"),
        Rejection(body: messages(#""top_k":-1"#), param: "top_k", message: ">= 0"),
        Rejection(
            body: messages(#""stop_sequences":["a","b","c","d","e"]"#), param: "stop_sequences", message: "at most 4"),
        Rejection(body: messages(#""stop_sequences":[3]"#), param: "stop_sequences[0]", message: "string"),
        Rejection(body: messages(#""metadata":{"user_id":3}"#), param: "metadata.user_id", message: "string"),
        Rejection(body: messages(#""stream":1"#), param: "stream", message: "boolean"),
        Rejection(body: messages(#""tools":[{"name":"f"}]"#), param: "tools[0].input_schema", message: "required"),
        Rejection(
            body: messages(#""tools":[{"name":"f","input_schema":{"type":"string"}}]"#),
            param: "tools[0].input_schema.type", message: "'object'"),
        Rejection(
            body: messages(#""tools":[{"name":"f g","input_schema":{"type":"object"}}]"#), param: "tools[0].name",
            message: "does not match"),
        Rejection(
            body: messages(#""tools":[{"type":"web_search_20250305","name":"web_search"}]"#), param: "tools[0].type",
            message: "server tool"),
        Rejection(
            body: messages(#""tools":[\#(weather)],"tool_choice":{"type":"tool","name":"nope"}"#),
            param: "tool_choice.name", message: "'nope'"),
        Rejection(body: messages(#""tool_choice":{"type":"any"}"#), param: "tool_choice", message: "at least one tool"),
        Rejection(
            body: messages(#""tools":[\#(weather)],"tool_choice":{"type":"maybe"}"#), param: "tool_choice.type",
            message: "'maybe'"),
        Rejection(
            body: messages(#""thinking":{"type":"enabled","budget_tokens":500}"#), param: "thinking.budget_tokens",
            message: ">= 1024"),
        Rejection(
            body: messages(#""thinking":{"type":"enabled","budget_tokens":2048}"#), param: "thinking.budget_tokens",
            message: "less than 'max_tokens'"),
        Rejection(
            body: messages(#""thinking":{"type":"enabled"}"#), param: "thinking.budget_tokens", message: "required"),
    ]

    @Test(arguments: rejections)
    func rejects(_ rejection: Rejection) throws {
        let body = try Support.json(rejection.body)
        let error = #expect(throws: InvalidRequest.self) { try InferenceRequest(route: .messages, body: body) }
        #expect(error?.param == rejection.param)
        #expect(error?.message.contains(rejection.message) == true, "\(error?.message ?? "no error")")
    }

    @Test func anthropicErrorsNameTheParamInTheMessage() throws {
        let error = #expect(throws: InvalidRequest.self) {
            try AnthropicRequest(body: try Support.json(messages(#""top_k":-1"#)))
        }
        let body = try Support.object(APIError.invalidRequest(try #require(error)).body(.anthropic))
        #expect(body["type"] == "error")
        #expect(body["error"]?["type"] == "invalid_request_error")
        #expect(body["error"]?["message"]?.stringValue == error?.message)
        #expect(error?.message.contains("'top_k'") == true)
        let unnamed = APIError.invalidRequest(InvalidRequest("must be 'object'", param: "tools[0].input_schema.type"))
        #expect(
            try Support.object(unnamed.body(.anthropic))["error"]?["message"]
                == "tools[0].input_schema.type: must be 'object'")
    }

    @Test func acceptsAToolConversationWithPrefillAndConsecutiveTurns() throws {
        let body = messages(
            #""system":[{"type":"text","text":"a","cache_control":{"type":"ephemeral"}}],"tools":[\#(weather)],"tool_choice":{"type":"auto","disable_parallel_tool_use":true},"thinking":{"type":"enabled","budget_tokens":1024}"#,
            messages:
                #"[\#(hello),\#(hello),\#(toolUse),{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"sunny","is_error":false},{"type":"text","text":"ok?"}]},{"role":"assistant","content":"Sure"}]"#,
            maxTokens: 2000)
        let request = try InferenceRequest(route: .messages, body: try Support.json(body))
        #expect(request.chat.body["reasoning_effort"] == "low" && request.chat.body["parallel_tool_calls"] == false)
        #expect(request.dialect == .anthropic)
    }

    /// Translated for a non-Claude model, a field without a chat translation is refused by name.
    @Test func untranslatableFieldsAreRefusedByName() throws {
        for field in [#""top_k":3"#, #""service_tier":"auto""#, #""output_config":{"effort":"low"}"#, #""container":"c""#, #""future":true"#] {
            let name = String(field.split(separator: ":")[0].dropFirst().dropLast())
            let error = #expect(throws: InvalidRequest.self) { try AnthropicRequest(body: try Support.json(messages(field))) }
            #expect(error?.param == name && error?.message.contains("'\(name)'") == true, "\(field): \(String(describing: error))")
        }
        let metadata = #expect(throws: InvalidRequest.self) {
            try AnthropicRequest(body: try Support.json(messages(#""metadata":{"user_id":"u","tier":"x"}"#)))
        }
        #expect(metadata?.param == "metadata.tier")
    }

    @Test func countTokensNeedsNoMaxTokens() throws {
        let body = try Support.json(#"{"model":"c","messages":[\#(hello)]}"#)
        #expect(throws: InvalidRequest.self) { try AnthropicRequest(body: body) }
        #expect(try AnthropicRequest(body: body, countingTokens: true).maxTokens == nil)
    }
}

@Suite struct CompletionsValidationTests {
    static let rejections: [Rejection] = [
        Rejection(body: #"{"model":"m"}"#, param: "prompt", message: "required"),
        Rejection(body: #"{"model":"m","prompt":["a","b"]}"#, param: "prompt", message: "exactly one string"),
        Rejection(body: #"{"model":"m","prompt":[]}"#, param: "prompt", message: "got 0"),
        Rejection(body: #"{"model":"m","prompt":[[1,2]]}"#, param: "prompt[0]", message: "token-id"),
        Rejection(body: #"{"model":"m","prompt":5}"#, param: "prompt", message: "string"),
        Rejection(body: #"{"model":"m","prompt":"p","echo":true}"#, param: "echo", message: "not supported"),
        Rejection(body: #"{"model":"m","prompt":"p","suffix":"s"}"#, param: "suffix", message: "not supported"),
        Rejection(body: #"{"model":"m","prompt":"p","best_of":3}"#, param: "best_of", message: "best_of > 1"),
        Rejection(body: #"{"model":"m","prompt":"p","logprobs":2}"#, param: "logprobs", message: "not supported"),
        Rejection(
            body: #"{"model":"m","prompt":"p","temperature":2.1}"#, param: "temperature", message: "between 0 and 2"),
        Rejection(body: #"{"model":"m","prompt":"p","n":3}"#, param: "n", message: "n > 1"),
        Rejection(
            body: #"{"model":"m","prompt":"p","stream_options":{}}"#, param: "stream_options", message: "'stream'"),
    ]

    @Test(arguments: rejections)
    func rejects(_ rejection: Rejection) throws {
        let body = try Support.json(rejection.body)
        let error = #expect(throws: InvalidRequest.self) { try InferenceRequest(route: .completions, body: body) }
        #expect(error?.param == rejection.param)
        #expect(error?.message.contains(rejection.message) == true, "\(error?.message ?? "no error")")
    }
}
