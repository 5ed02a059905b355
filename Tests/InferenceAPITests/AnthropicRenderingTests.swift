import GatewayCore
import Testing

@testable import InferenceAPI

@Suite struct AnthropicRenderingTests {
    private func messagesRequest(stream: Bool = false) throws -> InferenceRequest {
        try InferenceRequest(
            route: .messages,
            body: try Support.json(
                #"{"model":"claude-x","max_tokens":64,"stream":\#(stream),"messages":[{"role":"user","content":"hi"}]}"#
            ))
    }

    @Test func messageWithTextAndToolUse() throws {
        let request = try messagesRequest()
        let answer = Support.accumulate([.text("Let me check.")] + Support.toolEvents)
        let json = try Support.object(
            request.responseBody(answer, id: "msg_1", signature: Support.signature(request, answer)))
        #expect(
            json["content"]
                == (try Support.json(
                    #"""
                    [{"type":"text","text":"Let me check."},{"type":"tool_use","id":"call_a","name":"get_weather","input":{"city":"Paris"}},
                     {"type":"tool_use","id":"call_b","name":"get_time","input":{"tz":"CET"}}]
                    """#)))
        #expect(json["stop_reason"] == "tool_use" && json["stop_sequence"] == .null && json["model"] == "claude-x")
        #expect(
            json["usage"]
                == (try Support.json(
                    #"{"input_tokens":30,"output_tokens":12,"cache_creation_input_tokens":0,"cache_read_input_tokens":0}"#
                )))
        #expect(json["tee_output_hash"]?.stringValue == answer.outputHash.hex)
    }

    @Test(arguments: [
        (FinishReason.stop, "end_turn"), (.length, "max_tokens"), (.toolCalls, "tool_use"), (.contentFilter, "refusal"),
    ])
    func stopReasons(finish: FinishReason, stopReason: String) throws {
        let answer = Support.accumulate([.text("x"), .finish(finish)])
        let json = AnthropicMessageResponse.json(
            answer, id: "m", model: "c", signature: Support.signature(try messagesRequest(), answer))
        #expect(json["stop_reason"]?.stringValue == stopReason)
    }

    @Test(arguments: [
        ("", "{}"), ("  ", "{}"), (#"{"a":[1]}"#, #"{"a":[1]}"#), (#"{"a":"#, #"{"raw_arguments":"{\"a\":"}"#),
        ("[1]", #"{"raw_arguments":"[1]"}"#),
    ])
    func toolInputIsParsedOrKeptRaw(arguments: String, input: String) throws {
        #expect(AnthropicMessageResponse.toolInput(arguments) == (try Support.json(input)))
    }

    @Test func emptyAnswerHasOneEmptyTextBlockAndZeroUsage() throws {
        let answer = CompletionAccumulator()
        let json = AnthropicMessageResponse.json(
            answer, id: "m", model: "c", signature: Support.signature(try messagesRequest(), answer))
        #expect(json["content"] == [["type": "text", "text": ""]])
        #expect(json["usage"] == ["input_tokens": 0, "output_tokens": 0])
    }

    @Test func streamGolden() throws {
        var stream = AnthropicMessageStream(id: "msg_test", model: "claude-x")
        var bytes = [UInt8]()
        for event in Support.textEvents { bytes += try stream.render(event) }
        let signature = Support.signature(try messagesRequest(stream: true), stream.accumulator)
        bytes += stream.finish(signature)
        let expected = [
            "event: message_start\ndata: "
                + #"{"type":"message_start","message":{"id":"msg_test","type":"message","role":"assistant","model":"claude-x","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":0,"output_tokens":0}}}"#,
            "event: content_block_start\ndata: "
                + #"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
            "event: content_block_delta\ndata: "
                + #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}}"#,
            "event: content_block_delta\ndata: "
                + #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" wörld 😊"}}"#,
            "event: content_block_stop\ndata: " + #"{"type":"content_block_stop","index":0}"#,
            "event: message_delta\ndata: "
                + #"{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"input_tokens":5,"output_tokens":3,"cache_creation_input_tokens":0,"cache_read_input_tokens":4},"#
                + teeMembers(signature) + "}",
            "event: message_stop\ndata: " + #"{"type":"message_stop"}"#,
        ]
        #expect(String(decoding: bytes, as: UTF8.self) == expected.map { $0 + "\n\n" }.joined())
    }

    @Test func streamBlocksNeverOverlapAndToolFragmentsFlowImmediately() throws {
        var stream = AnthropicMessageStream(id: "msg_1", model: "claude-x")
        var bytes = [UInt8]()
        for event in [CompletionEvent.text("Checking.")] + Support.toolEvents { bytes += try stream.render(event) }
        bytes += stream.finish(Support.signature(try messagesRequest(stream: true), stream.accumulator))
        let frames = try Support.frames(bytes)
        let names = frames.compactMap(\.event)
        #expect(
            names == [
                "message_start", "content_block_start", "content_block_delta", "content_block_stop",
                "content_block_start", "content_block_delta", "content_block_delta", "content_block_stop",
                "content_block_start", "content_block_delta", "content_block_stop", "message_delta", "message_stop",
            ])
        var open: Int?
        var seen = 0
        for frame in frames {
            let json = try Support.json(frame.data)
            let index = json["index"]?.numberValue?.intValue
            switch frame.event {
            case "content_block_start":
                #expect(open == nil, "a block starts while \(open ?? -1) is open")
                #expect(index == seen)
                open = index
            case "content_block_delta": #expect(index == open)
            case "content_block_stop":
                #expect(index == open)
                open = nil
                seen += 1
            default: continue
            }
        }
        let deltas = frames.filter { $0.event == "content_block_delta" }.map {
            try? Support.json($0.data)["delta"]?["partial_json"]?.stringValue
        }
        #expect(deltas.compactMap { $0 } == [#"{"city":"#, #""Paris"}"#, #"{"tz":"CET"}"#])
        let toolStart = try Support.json(frames[4].data)["content_block"]
        #expect(toolStart == (try Support.json(#"{"type":"tool_use","id":"call_a","name":"get_weather","input":{}}"#)))
        let messageDelta = try Support.json(frames[11].data)
        #expect(
            messageDelta["delta"]?["stop_reason"] == "tool_use" && messageDelta["tee_signature"] != nil
                && messageDelta["usage"]?["output_tokens"] == 12)
    }

    @Test func interleavedToolFragmentsAreAnErrorNotASilentDrop() throws {
        var stream = AnthropicMessageStream(id: "m", model: "c")
        _ = try stream.render(.toolCall(index: 0, id: "a", name: "f", arguments: "{"))
        _ = try stream.render(.toolCall(index: 1, id: "b", name: "g", arguments: "{}"))
        let error = #expect(throws: APIError.self) {
            try stream.render(.toolCall(index: 0, id: nil, name: nil, arguments: "}"))
        }
        #expect(error?.status == 502)
        let frames = try Support.frames(stream.fail(try #require(error)))
        #expect(frames.map(\.event) == ["error"])
        #expect(
            try Support.json(frames[0].data) == [
                "type": "error", "error": ["type": "api_error", "message": .string(error?.message ?? "")],
            ])
    }

    @Test func emptyStreamStillStartsAndStops() throws {
        var stream = AnthropicMessageStream(id: "m", model: "c")
        let frames = try Support.frames(
            stream.finish(Support.signature(try messagesRequest(stream: true), stream.accumulator)))
        #expect(frames.map(\.event) == ["message_start", "message_delta", "message_stop"])
        #expect(!frames.contains { $0.data == "[DONE]" })
    }
}
