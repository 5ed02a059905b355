import GatewayCore
import Testing

@testable import InferenceAPI

@Suite struct APIErrorTests {
    @Test(arguments: [
        (
            APIError.invalidRequest(InvalidRequest("bad", param: "temperature")), 400, "invalid_request_error",
            "invalid_request_error"
        ),
        (.unauthorized("no key"), 401, "authentication_error", "authentication_error"),
        (.forbidden("no"), 403, "permission_error", "permission_error"),
        (.unknownModel("gpt-9", available: ["gpt-4.1", "local"]), 404, "invalid_request_error", "not_found_error"),
        (.unknownPath(method: "GET", path: "/v2/x"), 404, "invalid_request_error", "not_found_error"),
        (
            .methodNotAllowed(method: "GET", path: "/v1/messages", allowed: ["POST"]), 405, "invalid_request_error",
            "invalid_request_error"
        ),
        (.bodyTooLarge(limit: 33_554_432), 413, "invalid_request_error", "request_too_large"),
        (.unsupportedMediaType("text/plain"), 415, "invalid_request_error", "invalid_request_error"),
        (.rateLimited("slow down", retryAfterSeconds: 7), 429, "rate_limit_error", "rate_limit_error"),
        (.internalError("oops"), 500, "server_error", "api_error"),
        (.upstream("provider 503"), 502, "server_error", "api_error"),
        (.unavailable("no provider key", retryAfterSeconds: 5), 503, "server_error", "overloaded_error"),
        (.upstreamTimeout("60 s"), 504, "server_error", "api_error"),
    ])
    func statusAndBothShapes(error: APIError, status: Int, openAIType: String, anthropicType: String) throws {
        #expect(error.status == status)
        let openAI = try Support.object(error.body(.openAI))
        #expect(openAI["error"]?["type"]?.stringValue == openAIType)
        #expect(openAI["error"]?["message"]?.stringValue == error.message)
        #expect(openAI["error"]?.objectValue?.keys == ["message", "type", "param", "code"])
        let anthropic = try Support.object(error.body(.anthropic))
        #expect(anthropic["type"] == "error")
        #expect(anthropic["error"]?["type"]?.stringValue == anthropicType)
        #expect(anthropic["error"]?.objectValue?.keys == ["type", "message"])
    }

    @Test func unknownModelListsTheAlternatives() throws {
        let error = APIError.unknownModel("gpt-9", available: ["gpt-4.1", "local"])
        #expect(error.message.contains("'gpt-9'") && error.message.contains("gpt-4.1, local"))
        #expect(
            try Support.object(error.body(.openAI))["error"] == [
                "message": .string(error.message), "type": "invalid_request_error", "param": "model",
                "code": "model_not_found",
            ])
        #expect(APIError.unknownModel("x", available: []).message.contains("no models are configured"))
    }

    @Test func retryAfterOnlyWhereItMeansSomething() {
        #expect(APIError.rateLimited("r", retryAfterSeconds: 7).retryAfterSeconds == 7)
        #expect(APIError.upstream("u").retryAfterSeconds == nil)
    }

    @Test func malformedJSONNamesTheOffset() throws {
        let parseError = #expect(throws: JSONParseError.self) { try JSONParser().parse(#"{"model": }"#) }
        let error = APIError.malformedJSON(try #require(parseError))
        #expect(error.status == 400 && error.message.contains("line 1, column 11 (byte 10)"))
    }
}

@Suite struct TokenEstimateTests {
    private func count(_ body: String) throws -> Int {
        TokenEstimate.inputTokens(try AnthropicRequest(body: try Support.json(body), countingTokens: true))
    }

    @Test func countsEveryPartOfTheRequest() throws {
        // 4 framing + ceil(8 / 4)
        #expect(try count(#"{"model":"c","messages":[{"role":"user","content":"abcdefgh"}]}"#) == 6)
        // + the system prompt: ceil(12 / 4)
        #expect(try count(#"{"model":"c","system":"abcd","messages":[{"role":"user","content":"abcdefgh"}]}"#) == 7)
        // + earlier turns, not only the last one
        #expect(
            try count(
                #"{"model":"c","messages":[{"role":"user","content":"abcdefgh"},{"role":"assistant","content":"abcd"},{"role":"user","content":"abcdefgh"}]}"#
            ) == 12 + 5)
        // + an image
        #expect(
            try count(
                #"{"model":"c","messages":[{"role":"user","content":[{"type":"text","text":"abcdefgh"},{"type":"image","source":{"type":"url","url":"u"}}]}]}"#
            ) == 1606)
        // + a tool: 4 framing + bytes of "w" + compact schema {"type":"object"} (17) → ceil((8 + 18) / 4) = 7
        #expect(
            try count(
                #"{"model":"c","tools":[{"name":"w","input_schema":{"type":"object"}}],"messages":[{"role":"user","content":"abcdefgh"}]}"#
            ) == 8 + 7)
    }

    @Test func bodyIsInputTokensMarkedAsAnEstimate() throws {
        let request = try AnthropicRequest(
            body: try Support.json(#"{"model":"c","messages":[{"role":"user","content":"abcdefgh"}]}"#),
            countingTokens: true)
        #expect(try Support.object(TokenEstimate.body(request)) == ["input_tokens": 6, "estimate": true])
    }
}

@Suite struct RouteTests {
    @Test func idsHaveTheVendorPrefixAndDiffer() {
        let ids = InferenceRequest.Route.allCases.map { ResponseID.make(for: $0) }
        #expect(ids[0].hasPrefix("chatcmpl-") && ids[1].hasPrefix("cmpl-") && ids[2].hasPrefix("msg_"))
        #expect(
            ids.allSatisfy {
                $0.count > 24
                    && $0.unicodeScalars.allSatisfy {
                        $0.properties.isASCIIHexDigit || ("A"..."z").contains($0) || $0 == "-" || $0 == "_"
                    }
            })
        #expect(ResponseID.make(prefix: "x") != ResponseID.make(prefix: "x"))
        // Every character of the alphabet about equally often: 4,000 ids of 24 characters give
        // each of the 62 about 1,548 times (standard deviation about 39); byte % 62 without
        // skipping 248...255 would give the first 8 characters 5/256 instead of 4/256 (about
        // 1,875 each), and a stuck generator far more.
        var counts = [UInt8: Int]()
        for _ in 0..<4000 {
            let id = ResponseID.make(prefix: "p-")
            #expect(id.hasPrefix("p-") && id.utf8.count == 26)
            for byte in id.utf8.dropFirst(2) { counts[byte, default: 0] += 1 }
        }
        #expect(Set(counts.keys) == Set(ResponseID.alphabet))
        #expect(counts.values.allSatisfy { abs($0 - 1548) < 250 }, "\(counts.values.sorted())")
    }

    @Test func eachRouteGetsItsDialectsRenderer() throws {
        let chat = try Support.chatRequest(stream: true)
        let messages = try InferenceRequest(
            route: .messages,
            body: try Support.json(
                #"{"model":"claude-x","max_tokens":5,"stream":true,"messages":[{"role":"user","content":"x"}]}"#))
        let completions = try InferenceRequest(
            route: .completions, body: try Support.json(#"{"model":"m","prompt":"p"}"#))
        #expect(
            chat.streamRenderer(id: "a", created: 1) is ChatCompletionStream && chat.dialect == .openAI && chat.stream)
        #expect(
            messages.streamRenderer(id: "a", created: 1) is AnthropicMessageStream && messages.dialect == .anthropic
                && messages.stream)
        #expect(completions.streamRenderer(id: "a", created: 1) is TextCompletionStream && !completions.stream)
        // The Anthropic stream asks providers for usage, which its message_delta reports.
        #expect(messages.chat.includeUsage && messages.model == "claude-x")
    }
}
