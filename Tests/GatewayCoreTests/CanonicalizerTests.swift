import Testing

@testable import GatewayCore

/// The projection rules beyond the vectors: our documented choices and every rejection path.
@Suite struct CanonicalizerTests {
    func rejection(_ text: String, _ kind: RequestKind = .chat) throws -> InvalidRequest {
        do {
            _ = try CanonicalRequest(kind: kind, body: parse(text))
        } catch let error as InvalidRequest {
            return error
        }
        Issue.record("expected \(text) to be rejected")
        return InvalidRequest("")
    }

    @Test func userListContentDropsAttachmentBytes() throws {
        // We follow upstream's current canonical_user_content, not R5's Python repr.
        let text = #"{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"Hi","cache_control":{"type":"ephemeral"}},{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}},{"type":"file","filename":"top.pdf","file":{"filename":"inner.pdf"}},{"type":"file","file":{"filename":"","file_data":"x"}}]}]}"#
        #expect(try canonical(text) == #"{"messages": [{"content": [{"text": "Hi", "type": "text"}, {"type": "image_url"}, {"filename": "top.pdf", "type": "file"}, {"type": "file"}], "role": "user"}], "model": "m", "temperature": 0.0}"#)
    }

    @Test func assistantContentDefaultsAndToolCalls() throws {
        let text = #"{"model":"m","messages":[{"role":"assistant"},{"role":"assistant","content":"","tool_calls":[]},{"role":"assistant","content":null,"tool_calls":[{"function":{"name":"f"}}]}]}"#
        #expect(try canonical(text) == #"{"messages": [{"content": "", "role": "assistant"}, {"content": "", "role": "assistant"}, {"content": "", "role": "assistant", "tool_calls": [{"function": {"arguments": null, "name": "f"}, "id": null, "type": null}]}], "model": "m", "temperature": 0.0}"#)
    }

    @Test func optionalFieldsFollowPythonTruthiness() throws {
        let text = #"{"model":"m","messages":[{"role":"user","content":"x"}],"stop":"","tools":[],"response_format":{},"max_tokens":null,"temperature":null}"#
        #expect(try canonical(text) == #"{"messages": [{"content": "x", "role": "user"}], "model": "m", "temperature": 0.0}"#)
    }

    @Test func developerToolAndFunctionRoles() throws {
        let text = #"{"model":"m","messages":[{"role":"developer","content":"d","name":"x"},{"role":"tool","content":[{"type":"text","text":"r"}],"tool_call_id":"c","name":"n"},{"role":"function","name":"f"}]}"#
        #expect(try canonical(text) == #"{"messages": [{"content": "d", "role": "developer"}, {"content": [{"text": "r", "type": "text"}], "role": "tool", "tool_call_id": "c"}, {"content": null, "name": "f", "role": "function"}], "model": "m", "temperature": 0.0}"#)
    }

    @Test func completionsQuirks() throws {
        #expect(try canonical(#"{"model":"m","prompt":"p","temperature":null,"max_tokens":null}"#, .completions) == #"{"model": "m", "prompt": "p", "temperature": 0.0}"#)
        #expect(try canonical(#"{"model":"m","prompt":["a","b"],"temperature":2,"max_tokens":5,"stop":[]}"#, .completions) == #"{"max_tokens": 5, "model": "m", "prompt": ["a", "b"], "temperature": 2.0}"#)
    }

    @Test(arguments: [
        (#"[]"#, "the request body must be a JSON object, not array", nil),
        (#"{"messages":[{"role":"user","content":"x"}]}"#, "'model' is a required property", "model"),
        (#"{"model":1,"messages":[]}"#, "'model' must be a string, not integer", "model"),
        (#"{"model":"m"}"#, "'messages' is a required property", "messages"),
        (#"{"model":"m","messages":[]}"#, "'messages' must contain at least one message", "messages"),
        (#"{"model":"m","messages":{}}"#, "'messages' must be an array, not object", "messages"),
        (#"{"model":"m","messages":["hi"]}"#, "'messages[0]' must be an object, not string", "messages[0]"),
        (#"{"model":"m","messages":[{"content":"x"}]}"#, "'messages[0].role' is a required property", "messages[0].role"),
        (#"{"model":"m","messages":[{"role":"robot","content":"x"}]}"#, "'robot' is not a valid role; expected one of system, developer, user, assistant, tool, function", "messages[0].role"),
        (#"{"model":"m","messages":[{"role":"user"}]}"#, "'messages[0].content' is a required property", "messages[0].content"),
        (#"{"model":"m","messages":[{"role":"user","content":5}]}"#, "'messages[0].content' must be a string or an array of content parts, not integer", "messages[0].content"),
        (#"{"model":"m","messages":[{"role":"user","content":[{"text":"x"}]}]}"#, "'messages[0].content[0].type' is a required property", "messages[0].content[0].type"),
        (#"{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":1}]}]}"#, "'messages[0].content[0].text' must be a string, not integer", "messages[0].content[0].text"),
        (#"{"model":"m","messages":[{"role":"assistant","content":true}]}"#, "'messages[0].content' must be a string, an array or null, not boolean", "messages[0].content"),
        (#"{"model":"m","messages":[{"role":"assistant","tool_calls":{"a":1}}]}"#, "'messages[0].tool_calls' must be an array, not object", "messages[0].tool_calls"),
        (#"{"model":"m","messages":[{"role":"tool","content":"x"}]}"#, "'messages[0].tool_call_id' is a required property", "messages[0].tool_call_id"),
        (#"{"model":"m","messages":[{"role":"function","content":"x"}]}"#, "'messages[0].name' is a required property", "messages[0].name"),
        (#"{"model":"m","messages":[{"role":"user","content":"x"}],"temperature":"hot"}"#, "'temperature' must be a number, not string", "temperature"),
        (#"{"model":"m","messages":[{"role":"user","content":"x"}],"temperature":1e999}"#, "", nil),
        (#"{"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":1.0}"#, "'max_tokens' must be an integer, not number", "max_tokens"),
        (#"{"model":"m","messages":[{"role":"user","content":"x"}],"stop":["a",1]}"#, "'stop[1]' must be a string, not integer", "stop[1]"),
        (#"{"model":"m","messages":[{"role":"user","content":"x"}],"tools":{"a":1}}"#, "'tools' must be an array, not object", "tools"),
        (#"{"model":"m","messages":[{"role":"user","content":"x"}],"response_format":"json"}"#, "'response_format' must be an object, not string", "response_format"),
    ] as [(String, String, String?)])
    func rejections(text: String, message: String, param: String?) throws {
        if message.isEmpty {
            // Not even JSON we accept: the parser refuses the overflowing float first.
            #expect(throws: JSONParseError.self) { try parse(text) }
            return
        }
        let error = try rejection(text)
        #expect(error.message == message)
        #expect(error.param == param)
    }

    @Test func hugeIntegerTemperatureIsRejectedNotTrapped() throws {
        let text = #"{"model":"m","messages":[{"role":"user","content":"x"}],"temperature":1"# + String(repeating: "0", count: 400) + "}"
        #expect(try rejection(text).param == "temperature")
    }

    @Test func completionsRejections() throws {
        #expect(try rejection(#"{"model":"m"}"#, .completions).param == "prompt")
        #expect(try rejection(#"{"model":"m","prompt":{}}"#, .completions).message == "'prompt' must be a string or an array, not object")
    }

    @Test func streamAndIgnoredFieldsDoNotChangeTheHash() throws {
        let base = #"{"model":"m","messages":[{"role":"user","content":"x"}]"#
        let plain = try CanonicalRequest(kind: .chat, body: parse(base + "}")).hash
        let extra = try CanonicalRequest(kind: .chat, body: parse(base + #","stream":true,"n":2,"seed":1,"top_p":0.5,"stream_options":{"include_usage":true}}"#)).hash
        #expect(plain == extra)
    }
}
