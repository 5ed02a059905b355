import GatewayCore
import Testing

@testable import Providers

@Suite struct LocalModelTests {
    let route = ModelRoute(provider: .local, apiName: "local", baseURL: "", keyName: nil, inputPricePerToken: 0, outputPricePerToken: 0)

    func run(_ json: String, model: LocalModel = LocalModel()) async throws -> Outcome {
        await collect(model.complete(try chatRequest(json), route: route, apiKey: nil))
    }

    @Test func deterministicRegardlessOfTemperatureAndSeed() async throws {
        let a = try await run(#"{"messages":[{"role":"user","content":"Hello there, model!"}],"temperature":0.1,"seed":1}"#)
        let b = try await run(#"{"messages":[{"role":"user","content":"Hello there, model!"}],"temperature":1.9,"seed":99}"#)
        #expect(a.events == b.events)
        #expect(a.text == "You said: Hello there, model!")
        #expect(a.events.filter { if case .text = $0 { true } else { false } }.count == 8)
        #expect(a.finish == .stop)
        #expect(a.usage == TokenUsage(promptTokens: 5, completionTokens: 8))
        let other = try await run(#"{"messages":[{"role":"user","content":"Something else"}]}"#)
        #expect(other.text != a.text)
    }

    @Test func tokenizerRoundTripsText() {
        for text in ["", "   ", "  lead", "a  b\n\nc ", "{\"k\":[1,2.5]}", "naïve café 🎉 ok", "x"] {
            #expect(LocalTokenizer.tokens(text).joined() == text, "\(text)")
        }
        #expect(LocalTokenizer.tokens("You said: hi") == ["You ", "said", ": ", "hi"])
    }

    @Test func streamsWithTheConfiguredDelay() async throws {
        let clock = ContinuousClock()
        let start = clock.now
        let outcome = try await run(#"{"messages":[{"role":"user","content":"one two three"}]}"#, model: LocalModel(tokenDelay: .milliseconds(40)))
        let elapsed = clock.now - start
        #expect(outcome.text == "You said: one two three")
        #expect(elapsed >= .milliseconds(40 * 6), "6 tokens at 40 ms took \(elapsed)")
    }

    @Test func cancellationStopsTheStream() async throws {
        let stream = LocalModel(tokenDelay: .milliseconds(50)).complete(
            try chatRequest(#"{"messages":[{"role":"user","content":"a b c d e f g h i j k l m n o p"}]}"#), route: route, apiKey: nil)
        var received = 0
        for try await _ in stream {
            received += 1
            if received == 2 { break }
        }
        #expect(received == 2)
    }

    @Test func maxTokensAndStopSequences() async throws {
        let limited = try await run(#"{"messages":[{"role":"user","content":"one two three four"}],"max_tokens":3}"#)
        #expect(limited.text == "You said: ")
        #expect(limited.finish == .length)
        #expect(limited.usage?.completionTokens == 3)
        let newer = try await run(#"{"messages":[{"role":"user","content":"one two three four"}],"max_completion_tokens":4}"#)
        #expect(newer.text == "You said: one " && newer.finish == .length)
        let stopped = try await run(#"{"messages":[{"role":"user","content":"one two three four"}],"stop":["three","wo"]}"#)
        #expect(stopped.text == "You said: one t")
        #expect(stopped.finish == .stop)
        let zero = try await run(#"{"messages":[{"role":"user","content":"x"}],"max_tokens":0}"#)
        #expect(zero.text.isEmpty && zero.finish == .length)
    }

    static let weatherTools = #"""
        [{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{
           "city":{"type":"string","minLength":3},"unit":{"type":"string","enum":["celsius","fahrenheit"]},
           "days":{"type":"integer","minimum":1,"maximum":7},"detail":{"type":"boolean"},
           "tags":{"type":"array","items":{"type":"string","maxLength":2},"minItems":2}},
           "required":["city","unit"],"additionalProperties":false}}},
         {"type":"function","function":{"name":"get_time","parameters":{"type":"object","properties":{"zone":{"$ref":"#/$defs/zone"}},"$defs":{"zone":{"type":"string","format":"date"}}}}}]
        """#

    @Test func callsTheToolTheUserNamesWithSchemaValidArguments() async throws {
        let outcome = try await run(#"{"messages":[{"role":"user","content":"Please call get_weather for me"}],"tools":\#(Self.weatherTools)}"#)
        let call = try #require(outcome.accumulator.toolCalls.first)
        #expect(outcome.accumulator.toolCalls.count == 1)
        #expect(call.name == "get_weather")
        #expect(call.id.hasPrefix("call_") && call.id.count == 29)
        #expect(outcome.finish == .toolCalls)
        #expect(outcome.events.count > 4, "arguments stream in pieces")
        let arguments = try JSONParser().parse(call.arguments)
        #expect(arguments["city"] == "Please call get_weather for me")
        #expect(arguments["unit"] == "celsius" && arguments["days"] == 1 && arguments["detail"] == true)
        #expect(arguments["tags"] == ["Pl", "Pl"])
        #expect(arguments.objectValue?.keys == ["city", "unit", "days", "detail", "tags"])
    }

    @Test func toolChoiceRules() async throws {
        let base = #"{"messages":[{"role":"user","content":"what time is it?"}],"tools":\#(Self.weatherTools)"#
        #expect(try await run(base + "}").accumulator.toolCalls.isEmpty, "auto without a named tool answers in text")
        #expect(try await run(base + #","tool_choice":"required"}"#).accumulator.toolCalls.first?.name == "get_weather")
        #expect(try await run(base + #","tool_choice":"none"}"#).text == "You said: what time is it?")
        let forced = try await run(base + #","tool_choice":{"type":"function","function":{"name":"get_time"}}}"#)
        let call = try #require(forced.accumulator.toolCalls.first)
        #expect(call.name == "get_time" && call.arguments == #"{"zone":"2025-01-01"}"#)
        let unknown = try await run(base + #","tool_choice":{"type":"function","function":{"name":"nope"}}}"#)
        #expect(unknown.error?.httpStatus == 400)
        let afterResult = try await run(#"""
            {"messages":[{"role":"user","content":"call get_weather"},
              {"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"get_weather","arguments":"{}"}}]},
              {"role":"tool","tool_call_id":"c","content":"sunny"}],"tools":\#(Self.weatherTools),"tool_choice":"required"}
            """#)
        #expect(afterResult.text == "Tool result: sunny" && afterResult.finish == .stop)
    }

    @Test func structuredOutputsAreValidJSON() async throws {
        let schema = #"""
            {"type":"json_schema","json_schema":{"name":"r","schema":{"type":"object","properties":{
              "answer":{"type":"string"},"score":{"type":"number","exclusiveMinimum":0},"kind":{"const":"k"},
              "maybe":{"anyOf":[{"type":"null"},{"type":"integer","minimum":5}]},"items":{"type":"array","items":{"$ref":"#/definitions/i"},"maxItems":0}},
              "definitions":{"i":{"type":"string"}}}}}
            """#
        let outcome = try await run(#"{"messages":[{"role":"user","content":"rate it"}],"response_format":\#(schema)}"#)
        let value = try JSONParser().parse(outcome.text)
        #expect(value == ["answer": "rate it", "score": 0.5, "kind": "k", "maybe": 5, "items": []])
        let object = try await run(#"{"messages":[{"role":"user","content":"hi"}],"response_format":{"type":"json_object"}}"#)
        #expect(try JSONParser().parse(object.text) == ["reply": "You said: hi"])
    }

    @Test func recursiveSchemasStopAtTheDepthLimit() throws {
        let schema: JSONValue = ["$ref": "#"]
        #expect(SchemaInstance(root: schema, text: "t").instance() == .null)
        let nested: JSONValue = ["type": "object", "properties": ["child": ["$ref": "#"]]]
        var value = SchemaInstance(root: nested, text: "t").instance()
        var depth = 0
        while let child = value["child"], child != .null {
            value = child
            depth += 1
        }
        #expect(depth == SchemaInstance.maxDepth / 2 - 1)
    }
}
