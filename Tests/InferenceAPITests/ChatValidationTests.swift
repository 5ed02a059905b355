import GatewayCore
import Testing

@testable import InferenceAPI

/// A body the API must refuse, the field it must blame and words the message must contain.
struct Rejection: Sendable, CustomTestStringConvertible {
    let body: String
    let param: String?
    let message: String
    var testDescription: String { "\(param ?? "body"): \(message)" }
}

private let user = #"{"role":"user","content":"hi"}"#
private let weatherTool = #"{"type":"function","function":{"name":"get_weather","parameters":{"type":"object"}}}"#

private func chat(_ extra: String, messages: String = "[\(user)]") -> String {
    #"{"model":"gpt-4.1","messages":\#(messages)\#(extra.isEmpty ? "" : ",")\#(extra)}"#
}

@Suite struct ChatValidationTests {
    static let rejections: [Rejection] = [
        Rejection(body: #"[1]"#, param: nil, message: "must be a JSON object"),
        Rejection(body: #"{"messages":[\#(user)]}"#, param: "model", message: "required"),
        Rejection(
            body: #"{"model":5,"messages":[\#(user)]}"#, param: "model", message: "expected a string, but got integer"),
        Rejection(body: #"{"model":"","messages":[\#(user)]}"#, param: "model", message: "must not be empty"),
        Rejection(body: #"{"model":"m"}"#, param: "messages", message: "required"),
        Rejection(body: chat("", messages: "[]"), param: "messages", message: "at least one"),
        Rejection(body: chat("", messages: #""hi""#), param: "messages", message: "expected an array"),
        Rejection(
            body: chat("", messages: #"[{"role":"wizard","content":"x"}]"#), param: "messages[0].role",
            message: "'wizard'"),
        Rejection(body: chat("", messages: #"[{"content":"x"}]"#), param: "messages[0].role", message: "required"),
        Rejection(body: chat("", messages: #"[{"role":"user"}]"#), param: "messages[0].content", message: "required"),
        Rejection(
            body: chat("", messages: #"[{"role":"user","content":7}]"#), param: "messages[0].content",
            message: "content parts"),
        Rejection(
            body: chat("", messages: #"[{"role":"user","content":[{"type":"video"}]}]"#),
            param: "messages[0].content[0].type", message: "'video'"),
        Rejection(
            body: chat("", messages: #"[{"role":"user","content":[{"type":"image_url"}]}]"#),
            param: "messages[0].content[0].image_url", message: "required"),
        Rejection(
            body: chat(
                "",
                messages: #"[{"role":"user","content":[{"type":"image_url","image_url":{"url":"u","detail":"max"}}]}]"#),
            param: "messages[0].content[0].image_url.detail", message: "'max'"),
        Rejection(
            body: chat("", messages: #"[{"role":"user","content":[{"type":"file","file":{}}]}]"#),
            param: "messages[0].content[0].file", message: "file_data"),
        Rejection(
            body: chat("", messages: #"[{"role":"system","content":[{"type":"image_url"}]}]"#),
            param: "messages[0].content[0].type", message: "'text'"),
        Rejection(
            body: chat("", messages: #"[\#(user),{"role":"assistant"}]"#), param: "messages[1].content",
            message: "unless 'tool_calls'"),
        Rejection(
            body: chat("", messages: #"[\#(user),{"role":"tool","content":"x","tool_call_id":"c1"}]"#),
            param: "messages[1].tool_call_id", message: "preceding message with 'tool_calls'"),
        Rejection(
            body: chat(
                "",
                messages:
                    #"[\#(user),{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]},\#(user)]"#
            ),
            param: "messages[1].tool_calls", message: "missing: c1"),
        Rejection(
            body: chat(
                "",
                messages:
                    #"[\#(user),{"role":"assistant","tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]},{"role":"tool","content":"x","tool_call_id":"c2"}]"#
            ),
            param: "messages[2].tool_call_id", message: "'c2'"),
        Rejection(
            body: chat(
                "",
                messages:
                    #"[\#(user),{"role":"assistant","tool_calls":[{"id":"c1","type":"function","function":{"name":"f"}}]}]"#
            ),
            param: "messages[1].tool_calls[0].function.arguments", message: "required"),
        Rejection(
            body: chat("", messages: #"[\#(user),{"role":"tool","content":"x"}]"#), param: "messages[1].tool_call_id",
            message: "required"),
        Rejection(body: chat(#""temperature":2.5"#), param: "temperature", message: "between 0 and 2, but got 2.5"),
        Rejection(
            body: chat(#""temperature":"hot""#), param: "temperature", message: "expected a number, but got string"),
        Rejection(body: chat(#""top_p":1.01"#), param: "top_p", message: "between 0 and 1"),
        Rejection(body: chat(#""presence_penalty":-2.5"#), param: "presence_penalty", message: "between -2 and 2"),
        Rejection(body: chat(#""frequency_penalty":3"#), param: "frequency_penalty", message: "between -2 and 2"),
        Rejection(body: chat(#""n":2"#), param: "n", message: "n > 1 is not supported"),
        Rejection(body: chat(#""n":0"#), param: "n", message: ">= 1"),
        Rejection(body: chat(#""max_tokens":0"#), param: "max_tokens", message: ">= 1, but got 0"),
        Rejection(
            body: chat(#""max_tokens":123456789012345678901234567890"#), param: "max_tokens",
            message: "does not fit in a 64-bit integer"),
        Rejection(
            body: chat(#""max_completion_tokens":1.5"#), param: "max_completion_tokens", message: "expected an integer"),
        Rejection(body: chat(#""stop":["a","b","c","d","e"]"#), param: "stop", message: "at most 4"),
        Rejection(body: chat(#""stop":["a",1]"#), param: "stop[1]", message: "expected a string"),
        Rejection(body: chat(#""stop":{}"#), param: "stop", message: "string or an array"),
        Rejection(body: chat(#""seed":1.5"#), param: "seed", message: "integer"),
        Rejection(body: chat(#""stream":"yes""#), param: "stream", message: "boolean"),
        Rejection(
            body: chat(#""stream_options":{"include_usage":true}"#), param: "stream_options",
            message: "only allowed when 'stream' is enabled"),
        Rejection(
            body: chat(#""stream":true,"stream_options":{"include_usage":1}"#), param: "stream_options.include_usage",
            message: "boolean"),
        Rejection(body: chat(#""logprobs":"yes""#), param: "logprobs", message: "boolean"),
        Rejection(body: chat(#""top_logprobs":2"#), param: "top_logprobs", message: "requires 'logprobs'"),
        Rejection(body: chat(#""logprobs":true,"top_logprobs":21"#), param: "top_logprobs", message: "<= 20"),
        Rejection(body: chat(#""logit_bias":{"50256":-101}"#), param: "logit_bias.50256", message: "between -100 and 100"),
        Rejection(body: chat(#""metadata":{"k":1}"#), param: "metadata.k", message: "string"),
        Rejection(body: chat(#""store":"no""#), param: "store", message: "boolean"),
        Rejection(body: chat(#""verbosity":"loud""#), param: "verbosity", message: "'loud'"),
        Rejection(body: chat(#""safety_identifier":5"#), param: "safety_identifier", message: "string"),
        Rejection(body: chat(#""reasoning_effort":"extreme""#), param: "reasoning_effort", message: "'extreme'"),
        Rejection(body: chat(#""tools":{}"#), param: "tools", message: "array"),
        Rejection(body: chat(#""tools":[{"type":"retrieval"}]"#), param: "tools[0].type", message: "only 'function'"),
        Rejection(body: chat(#""tools":[{"type":"function"}]"#), param: "tools[0].function", message: "required"),
        Rejection(
            body: chat(#""tools":[{"type":"function","function":{"name":"get weather"}}]"#),
            param: "tools[0].function.name", message: "^[a-zA-Z0-9_-]{1,64}$"),
        Rejection(
            body: chat(#""tools":[{"type":"function","function":{"name":"\#(String(repeating: "a", count: 65))"}}]"#),
            param: "tools[0].function.name", message: "does not match"),
        Rejection(
            body: chat(#""tools":[{"type":"function","function":{"name":"f","parameters":"{}"}}]"#),
            param: "tools[0].function.parameters", message: "object"),
        Rejection(body: chat(#""tool_choice":"required""#), param: "tool_choice", message: "only allowed when 'tools'"),
        Rejection(
            body: chat(#""tools":[\#(weatherTool)],"tool_choice":"sometimes""#), param: "tool_choice",
            message: "'sometimes'"),
        Rejection(
            body: chat(#""tools":[\#(weatherTool)],"tool_choice":{"type":"function","function":{"name":"get_time"}}"#),
            param: "tool_choice.function.name", message: "no tool named 'get_time'"),
        Rejection(
            body: chat(#""tools":[\#(weatherTool)],"tool_choice":{"type":"function"}"#), param: "tool_choice.function",
            message: "required"),
        Rejection(body: chat(#""tool_choice":7"#), param: "tool_choice", message: "string or an object"),
        Rejection(body: chat(#""parallel_tool_calls":"no""#), param: "parallel_tool_calls", message: "boolean"),
        Rejection(body: chat(#""response_format":{"type":"yaml"}"#), param: "response_format.type", message: "'yaml'"),
        Rejection(body: chat(#""response_format":{}"#), param: "response_format.type", message: "required"),
        Rejection(
            body: chat(#""response_format":{"type":"json_schema"}"#), param: "response_format.json_schema",
            message: "required"),
        Rejection(
            body: chat(#""response_format":{"type":"json_schema","json_schema":{"name":"r"}}"#),
            param: "response_format.json_schema.schema", message: "required"),
        Rejection(
            body: chat(#""response_format":{"type":"json_schema","json_schema":{"name":"a b","schema":{}}}"#),
            param: "response_format.json_schema.name", message: "does not match"),
    ]

    @Test(arguments: rejections)
    func rejects(_ rejection: Rejection) throws {
        let body = try Support.json(rejection.body)
        let error = #expect(throws: InvalidRequest.self) { try InferenceRequest(route: .chatCompletions, body: body) }
        #expect(error?.param == rejection.param)
        #expect(error?.message.contains(rejection.message) == true, "\(error?.message ?? "no error")")
        // The API error keeps both for the 400 the client gets.
        if let error { #expect(APIError.invalidRequest(error).status == 400) }
    }

    @Test func acceptsTheDeveloperRoleAndAToolRoundTrip() throws {
        let body = chat(
            #""tools":[\#(weatherTool)],"tool_choice":{"type":"function","function":{"name":"get_weather"}},"parallel_tool_calls":false"#,
            messages: #"""
                [{"role":"developer","content":"Be formal."},\#(user),
                 {"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"get_weather","arguments":"{}"}},
                                                                 {"id":"c2","type":"function","function":{"name":"get_weather","arguments":"{}"}}]},
                 {"role":"tool","content":"sunny","tool_call_id":"c2"},{"role":"tool","content":[{"type":"text","text":"rainy"}],"tool_call_id":"c1"},
                 {"role":"user","content":[{"type":"text","text":"and?"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AA=="}},
                                           {"type":"file","file":{"file_data":"data:application/pdf;base64,AA==","filename":"a.pdf"}}]}]
                """#)
        let request = try InferenceRequest(route: .chatCompletions, body: try Support.json(body))
        #expect(request.chat.tools.map(\.name) == ["get_weather"])
        #expect(request.chat.tools.first?.parameters?["type"] == "object")
        #expect(request.chat.stream == false)
    }

    @Test func readsTheFactsTheWorkerNeeds() throws {
        let body = chat(
            #""stream":true,"stream_options":{"include_usage":true},"max_tokens":50,"max_completion_tokens":70,"temperature":null,"n":1,"#
                + #""response_format":{"type":"json_schema","json_schema":{"name":"answer","schema":{"type":"object"},"strict":true}}"#
        )
        let request = try InferenceRequest(route: .chatCompletions, body: try Support.json(body))
        #expect(request.chat.stream && request.chat.includeUsage)
        #expect(request.chat.maxTokens == 70)
        #expect(request.model == "gpt-4.1")
        guard case .jsonSchema(let name, let schema, let strict) = request.chat.responseFormat else {
            Issue.record("expected a json_schema format, got \(request.chat.responseFormat)")
            return
        }
        #expect(name == "answer" && strict && schema["type"] == "object")
    }

    /// Policy: unknown fields pass this layer untouched (the provider policy forwards or refuses
    /// them by name), stay in the body, and do not change the hash.
    @Test func unknownTopLevelFieldsAreKeptForTheProviderPolicyAndNotHashed() throws {
        let plain = try InferenceRequest(route: .chatCompletions, body: try Support.json(chat("")))
        let extras = try InferenceRequest(
            route: .chatCompletions, body: try Support.json(chat(#""top_k":5,"repetition_penalty":1.1,"user":"u""#)))
        #expect(extras.chat.body["top_k"] == 5 && extras.chat.body["repetition_penalty"] == 1.1)
        #expect(extras.canonical.hash == plain.canonical.hash)
    }

    /// Every signing vector is either accepted with the vector's hash, or refused for a value
    /// the API deliberately rejects (named here), never crashed on.
    @Test func signingVectorsHashAsTheContractSays() throws {
        let refused = ["R9": "max_tokens", "N1-numbers": "max_tokens"]
        let vectors = try Support.vectors("signing-vectors.json")
        let requests = try #require(vectors["requests"]?.arrayValue)
        #expect(requests.count >= 10)
        for vector in requests {
            let name = vector["name"]?.stringValue ?? "?"
            let route: InferenceRequest.Route = vector["kind"] == "completions" ? .completions : .chatCompletions
            let body = try Support.json(try #require(vector["request"]?.stringValue))
            switch Result(catching: { () throws(InvalidRequest) -> InferenceRequest in
                try InferenceRequest(route: route, body: body)
            }) {
            case .success(let request):
                #expect(refused[name] == nil, "\(name) should have been refused")
                #expect(request.canonical.hash.hex == vector["hash"]?.stringValue, "\(name)")
            case .failure(let error):
                #expect(refused[name] == error.param, "\(name): \(error)")
            }
        }
    }
}
