import GatewayCore
import Testing

@testable import InferenceAPI

/// The `tee_*` members exactly as a compact object writes them, for golden strings.
func teeMembers(_ signature: TEESignature) -> String {
    signature.fields.map { #""\#($0.0)":\#(JSONWriter.string($0.1, style: .compact))"# }.joined(separator: ",")
}

@Suite struct OpenAIRenderingTests {
    @Test func chatResponseGolden() throws {
        let request = try Support.chatRequest()
        let answer = Support.accumulate(Support.textEvents)
        let signature = Support.signature(request, answer)
        let body = String(
            decoding: request.responseBody(answer, id: "chatcmpl-test", signature: signature), as: UTF8.self)
        #expect(
            body
                == #"{"id":"chatcmpl-test","object":"chat.completion","created":1747000000,"model":"gpt-4.1","choices":[{"index":0,"message":{"role":"assistant","content":"Hello wörld 😊"},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12,"prompt_tokens_details":{"cached_tokens":4}},"#
                + teeMembers(signature) + "}")
        // The signed output is the text the client reads.
        #expect(signature.outputHash == OutputHash.text("Hello wörld 😊"))
    }

    @Test func chatResponseWithToolCallsHasNullContent() throws {
        let request = try Support.chatRequest()
        let answer = Support.accumulate(Support.toolEvents)
        let json = ChatCompletionResponse.json(
            answer, id: "chatcmpl-x", model: "gpt-4.1", signature: Support.signature(request, answer))
        let message = try #require(json["choices"]?.arrayValue?.first?["message"])
        #expect(message["content"] == .null)
        #expect(
            message["tool_calls"]
                == (try Support.json(
                    #"""
                    [{"id":"call_a","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},
                     {"id":"call_b","type":"function","function":{"name":"get_time","arguments":"{\"tz\":\"CET\"}"}}]
                    """#)))
        #expect(json["choices"]?.arrayValue?.first?["finish_reason"] == "tool_calls")
        #expect(json["usage"]?["total_tokens"] == 42)
        #expect(json["usage"]?["prompt_tokens_details"] == nil)
    }

    @Test func missingUsageIsOmittedAndMissingFinishIsInferred() throws {
        let answer = Support.accumulate([.toolCall(index: 0, id: "c", name: "f", arguments: "{}")])
        let json = ChatCompletionResponse.json(
            answer, id: "i", model: "m", signature: Support.signature(try Support.chatRequest(), answer))
        #expect(json["usage"] == nil)
        #expect(json["choices"]?.arrayValue?.first?["finish_reason"] == "tool_calls")
    }

    @Test func chatStreamGolden() throws {
        var stream = ChatCompletionStream(
            id: "chatcmpl-test", model: "gpt-4.1", created: 1_700_000_000, includeUsage: false)
        var bytes = [UInt8]()
        for event in Support.textEvents { bytes += stream.render(event) }
        let signature = Support.signature(try Support.chatRequest(stream: true), stream.accumulator)
        bytes += stream.finish(signature)
        let head =
            #"{"id":"chatcmpl-test","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4.1","choices":[{"index":0,"delta":"#
        let expected =
            "data: " + head + #"{"role":"assistant","content":"Hello"},"logprobs":null,"finish_reason":null}]}"#
            + "\n\n"
            + "data: " + head + #"{"content":" wörld 😊"},"logprobs":null,"finish_reason":null}]}"# + "\n\n"
            + "data: " + head
            + #"{},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12,"prompt_tokens_details":{"cached_tokens":4}},"#
            + teeMembers(signature) + "}\n\n" + "data: [DONE]\n\n"
        #expect(String(decoding: bytes, as: UTF8.self) == expected)
    }

    @Test func toolCallDeltasFollowOpenAIsShape() throws {
        var stream = ChatCompletionStream(id: "c", model: "m", created: 1, includeUsage: false)
        var frames = [[UInt8]]()
        for event in Support.toolEvents + [.toolCall(index: 1, id: nil, name: nil, arguments: "")] {
            frames.append(stream.render(event))
        }
        #expect(
            frames[4].isEmpty && frames[5].isEmpty && frames[6].isEmpty,
            "finish, usage and empty fragments render nothing")
        let deltas = try frames.prefix(4).map {
            try Support.json(String(try Support.frames($0)[0].data))["choices"]?.arrayValue?.first?["delta"]
        }
        #expect(
            deltas[0]
                == (try Support.json(
                    #"{"role":"assistant","tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"get_weather","arguments":""}}]}"#
                )))
        #expect(deltas[1] == (try Support.json(#"{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":"}}]}"#)))
        #expect(deltas[2] == (try Support.json(#"{"tool_calls":[{"index":0,"function":{"arguments":"\"Paris\"}"}}]}"#)))
        #expect(
            deltas[3]
                == (try Support.json(
                    #"{"tool_calls":[{"index":1,"id":"call_b","type":"function","function":{"name":"get_time","arguments":"{\"tz\":\"CET\"}"}}]}"#
                )))
        let finish = try Support.frames(stream.finish(Support.signature(try Support.chatRequest(), stream.accumulator)))
        #expect(try Support.json(finish[0].data)["choices"]?.arrayValue?.first?["finish_reason"] == "tool_calls")
    }

    @Test func includeUsageAddsOpenAIsUsageChunkAndCountsUsageOnce() throws {
        var stream = ChatCompletionStream(id: "c", model: "m", created: 1, includeUsage: true)
        var bytes = [UInt8]()
        for event in Support.textEvents { bytes += stream.render(event) }
        let signature = Support.signature(try Support.chatRequest(stream: true, includeUsage: true), stream.accumulator)
        bytes += stream.finish(signature)
        let frames = try Support.frames(bytes)
        #expect(frames.last?.data == "[DONE]")
        let chunks = try frames.dropLast().map { try Support.json($0.data) }
        #expect(chunks.count == 4)
        #expect(chunks.dropLast().allSatisfy { $0["usage"] == .null }, "other chunks carry usage: null")
        #expect(
            chunks[2]["tee_signature"] != nil && chunks[2]["choices"]?.arrayValue?.first?["finish_reason"] == "stop")
        #expect(
            chunks[3]["choices"] == [] && chunks[3]["usage"]?["prompt_tokens"] == 9 && chunks[3]["tee_signature"] == nil
        )
    }

    @Test func midStreamErrorEndsWithAnErrorFrameAndNoSignature() throws {
        var stream = ChatCompletionStream(id: "c", model: "m", created: 1, includeUsage: false)
        var bytes = stream.render(.text("partial"))
        bytes += stream.fail(.upstream("provider closed the connection"))
        let frames = try Support.frames(bytes)
        #expect(frames.count == 2)
        #expect(
            try Support.json(frames[1].data)
                == (try Support.json(
                    #"{"error":{"message":"provider closed the connection","type":"server_error","param":null,"code":"upstream_error"}}"#
                )))
        #expect(
            !String(decoding: bytes, as: UTF8.self).contains("[DONE]")
                && !String(decoding: bytes, as: UTF8.self).contains("tee_"))
    }

    @Test func textCompletionResponseAndStream() throws {
        let request = try InferenceRequest(
            route: .completions, body: try Support.json(#"{"model":"gpt-4.1","prompt":"Say hi"}"#))
        let answer = Support.accumulate([
            .text("Hi"), .text("!"), .finish(.length), .usage(TokenUsage(promptTokens: 2, completionTokens: 2)),
        ])
        let signature = Support.signature(request, answer)
        let json = try Support.object(request.responseBody(answer, id: "cmpl-1", signature: signature))
        #expect(json["object"] == "text_completion" && json["created"] == 1_747_000_000)
        #expect(
            json["choices"]
                == (try Support.json(#"[{"text":"Hi!","index":0,"logprobs":null,"finish_reason":"length"}]"#)))
        #expect(
            json["tee_request_hash"]?.stringValue == "7ab2ec562cf33e7a120d2caca189b9b2eb13b21a61f0bae107c70b4cf796737f",
            "vector C1")

        var stream = TextCompletionStream(id: "cmpl-1", model: "gpt-4.1", created: 5, includeUsage: false)
        var bytes = [UInt8]()
        for event in [CompletionEvent.text("Hi"), .text("!"), .finish(.stop)] { bytes += try stream.render(event) }
        bytes += stream.finish(signature)
        let chunks = try Support.frames(bytes).dropLast().map { try Support.json($0.data) }
        #expect(chunks.map { $0["choices"]?.arrayValue?.first?["text"]?.stringValue ?? "?" } == ["Hi", "!", ""])
        #expect(chunks.allSatisfy { $0["id"] == "cmpl-1" && $0["object"] == "text_completion" && $0["created"] == 5 })
        #expect(chunks[2]["tee_id"] != nil && chunks[2]["choices"]?.arrayValue?.first?["finish_reason"] == "stop")
    }

    @Test func textCompletionStreamRefusesToolCalls() throws {
        var stream = TextCompletionStream(id: "c", model: "m", created: 1, includeUsage: false)
        let error = #expect(throws: APIError.self) {
            try stream.render(.toolCall(index: 0, id: "x", name: "f", arguments: "{}"))
        }
        #expect(error?.status == 502)
    }

    @Test func emptyAnswerStillNamesTheAssistantRole() throws {
        var stream = ChatCompletionStream(id: "c", model: "m", created: 1, includeUsage: false)
        let answer = CompletionAccumulator()
        let frames = try Support.frames(stream.finish(Support.signature(try Support.chatRequest(), answer)))
        #expect(try Support.json(frames[0].data)["choices"]?.arrayValue?.first?["delta"] == ["role": "assistant"])
    }
}
