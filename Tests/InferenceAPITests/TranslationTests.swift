import GatewayCore
import Testing

@testable import InferenceAPI

@Suite struct TranslationTests {
    private func translate(_ body: String) throws -> JSONValue {
        .object(try InferenceRequest(route: .messages, body: try Support.json(body)).chat.body)
    }

    @Test func toolRoundTripPlacesResultsRightAfterTheCallingTurn() throws {
        let anthropic = #"""
            {"model":"claude-x","max_tokens":200,"system":[{"type":"text","text":"Be brief.","cache_control":{"type":"ephemeral"}},{"type":"text","text":"Use tools."}],
             "messages":[
              {"role":"user","content":"Weather in Paris and Rome?"},
              {"role":"assistant","content":[{"type":"thinking","thinking":"hmm","signature":"s"},{"type":"text","text":"Checking."},
                {"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"city":"Paris"}},
                {"type":"tool_use","id":"toolu_2","name":"get_weather","input":{"city":"Rome","units":["c"]}}]},
              {"role":"user","content":[
                {"type":"tool_result","tool_use_id":"toolu_1","content":"sunny"},
                {"type":"tool_result","tool_use_id":"toolu_2","is_error":true,"content":[{"type":"text","text":"timeout"},{"type":"image","source":{"type":"url","url":"https://x/y.png"}}]},
                {"type":"text","text":"Thanks","cache_control":{"type":"ephemeral"}}]}],
             "tools":[{"name":"get_weather","description":"Weather","input_schema":{"type":"object"},"cache_control":{"type":"ephemeral"}}],
             "tool_choice":{"type":"any","disable_parallel_tool_use":true},"stop_sequences":["END"],"top_p":0.9,
             "metadata":{"user_id":"u-1"},"stream":true}
            """#
        let expected = try Support.json(
            #"""
            {"model":"claude-x","messages":[
              {"role":"system","content":"Be brief.\n\nUse tools."},
              {"role":"user","content":"Weather in Paris and Rome?"},
              {"role":"assistant","content":"Checking.","tool_calls":[
                {"id":"toolu_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},
                {"id":"toolu_2","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Rome\",\"units\":[\"c\"]}"}}]},
              {"role":"tool","tool_call_id":"toolu_1","content":"sunny"},
              {"role":"tool","tool_call_id":"toolu_2","content":"Error: timeout"},
              {"role":"user","content":[{"type":"image_url","image_url":{"url":"https://x/y.png"}},{"type":"text","text":"Thanks"}]}],
             "max_tokens":200,"top_p":0.9,"stop":["END"],"stream":true,"stream_options":{"include_usage":true},"user":"u-1",
             "tools":[{"type":"function","function":{"name":"get_weather","description":"Weather","parameters":{"type":"object"}}}],
             "tool_choice":"required","parallel_tool_calls":false}
            """#)
        #expect(try translate(anthropic) == expected)
    }

    /// ARCHITECTURE §6.2: `/v1/messages` is signed as the chat form of its translation, so a
    /// verifier holding the equivalent OpenAI request gets the same hash.
    @Test func translatedRequestHashesLikeTheEquivalentOpenAIRequest() throws {
        let anthropic = try InferenceRequest(
            route: .messages,
            body: try Support.json(
                #"""
                {"model":"gpt-4.1","max_tokens":50,"temperature":0.5,"system":"Terse.","messages":[
                  {"role":"user","content":[{"type":"text","text":"Weather?"}]},
                  {"role":"assistant","content":[{"type":"tool_use","id":"c1","name":"w","input":{"q":1}}]},
                  {"role":"user","content":[{"type":"tool_result","tool_use_id":"c1","content":[{"type":"text","text":"cold"}]}]}],
                 "tools":[{"name":"w","input_schema":{"type":"object"}}],"stop_sequences":["x"]}
                """#))
        let openAI = try InferenceRequest(
            route: .chatCompletions,
            body: try Support.json(
                #"""
                {"model":"gpt-4.1","max_tokens":50,"temperature":0.5,"stop":["x"],"messages":[
                  {"role":"system","content":"Terse."},{"role":"user","content":"Weather?"},
                  {"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"w","arguments":"{\"q\":1}"}}]},
                  {"role":"tool","tool_call_id":"c1","content":"cold"}],
                 "tools":[{"type":"function","function":{"name":"w","parameters":{"type":"object"}}}]}
                """#))
        #expect(anthropic.canonical.hash == openAI.canonical.hash)
        #expect(anthropic.canonical.kind == .chat)
        // And a different answer to the tool changes it.
        let other = try InferenceRequest(
            route: .chatCompletions,
            body: try Support.json(
                String(
                    decoding: JSONWriter.serialize(openAI.chat.body.replacing("cold", with: "warm"), style: .compact),
                    as: UTF8.self)))
        #expect(other.canonical.hash != openAI.canonical.hash)
    }

    @Test(arguments: [
        (#"{"type":"auto"}"#, #""auto""#), (#"{"type":"any"}"#, #""required""#), (#"{"type":"none"}"#, #""none""#),
        (#"{"type":"tool","name":"w"}"#, #"{"type":"function","function":{"name":"w"}}"#),
    ])
    func toolChoiceMapping(anthropic: String, openAI: String) throws {
        let chat = try translate(
            #"{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"x"}],"tools":[{"name":"w","input_schema":{"type":"object"}}],"tool_choice":\#(anthropic)}"#
        )
        #expect(chat["tool_choice"] == (try Support.json(openAI)))
        #expect(chat["parallel_tool_calls"] == nil)
    }

    @Test(arguments: [(1024, "low"), (4095, "low"), (4096, "medium"), (16383, "medium"), (16384, "high")])
    func thinkingBudgetBecomesReasoningEffort(budget: Int, effort: String) throws {
        let chat = try translate(
            #"{"model":"m","max_tokens":40000,"messages":[{"role":"user","content":"x"}],"thinking":{"type":"enabled","budget_tokens":\#(budget)}}"#
        )
        #expect(chat["reasoning_effort"]?.stringValue == effort)
    }

    @Test func disabledThinkingAndAbsentTemperature() throws {
        let chat = try translate(
            #"{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"x"}],"thinking":{"type":"disabled"},"temperature":0}"#
        )
        #expect(chat["reasoning_effort"] == nil)
        #expect(chat["temperature"] == 0)
        // No invented default upstream; the hash alone counts the absent temperature as 1.0.
        let absent = #"{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"x"}]}"#
        #expect(try translate(absent)["temperature"] == nil)
        let request = try InferenceRequest(route: .messages, body: try Support.json(absent))
        #expect(request.chat.body["temperature"] == nil)
        #expect(request.canonical.value["temperature"] == 1.0)
    }

    @Test func imagesAndDocumentsBecomeURLAndFileParts() throws {
        let chat = try translate(
            #"""
            {"model":"m","max_tokens":5,"messages":[{"role":"user","content":[
              {"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBO"}},
              {"type":"document","title":"r.pdf","source":{"type":"base64","media_type":"application/pdf","data":"JVBE"}},
              {"type":"document","source":{"type":"text","media_type":"text/plain","data":"plain words"}}]}]}
            """#)
        #expect(
            chat["messages"]
                == (try Support.json(
                    #"""
                    [{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBO"}},
                      {"type":"file","file":{"filename":"r.pdf","file_data":"data:application/pdf;base64,JVBE"}},
                      {"type":"text","text":"plain words"}]}]
                    """#)))
    }

    @Test func documentURLsAreRefusedNotDropped() throws {
        let body = try Support.json(
            #"{"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"document","source":{"type":"url","url":"https://x/a.pdf"}}]}]}"#
        )
        let error = #expect(throws: InvalidRequest.self) { try InferenceRequest(route: .messages, body: body) }
        #expect(error?.param == "messages[0].content[0].source")
    }

    @Test func assistantWithOnlyThinkingBecomesEmptyText() throws {
        let chat = try translate(
            #"{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"x"},{"role":"assistant","content":[{"type":"redacted_thinking","data":"zz"}]},{"role":"user","content":"y"}]}"#
        )
        #expect(chat["messages"]?.arrayValue?[1] == (try Support.json(#"{"role":"assistant","content":""}"#)))
    }

    @Test func legacyCompletionsBecomeOneUserMessageWithLegacyDefaults() throws {
        let request = try InferenceRequest(
            route: .completions,
            body: try Support.json(#"{"model":"gpt-4.1","prompt":["Say hi"],"stream":true,"stop":"\n"}"#))
        #expect(
            .object(request.chat.body)
                == (try Support.json(
                    #"{"model":"gpt-4.1","messages":[{"role":"user","content":"Say hi"}],"stream":true,"stop":"\n","temperature":1.0,"max_tokens":16}"#
                )))
        // The signature covers the legacy projection, not the chat one.
        #expect(request.canonical.kind == .completions)
        let nullTemperature = try InferenceRequest(
            route: .completions,
            body: try Support.json(#"{"model":"m","prompt":"p","temperature":null,"max_tokens":null}"#))
        #expect(nullTemperature.chat.body["temperature"] == 0.0)
        #expect(nullTemperature.chat.maxTokens == nil)
    }
}

extension JSONObject {
    /// The object with one string value replaced, for "change one thing" tests.
    fileprivate func replacing(_ old: String, with new: String) -> JSONValue {
        func walk(_ value: JSONValue) -> JSONValue {
            switch value {
            case .string(let s): s == old ? .string(new) : value
            case .array(let items): .array(items.map(walk))
            case .object(let object): .object(JSONObject(object.members.map { ($0.key, walk($0.value)) }))
            default: value
            }
        }
        return walk(.object(self))
    }
}
