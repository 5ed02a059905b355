import GatewayCore

/// Decodes `chat.completion.chunk` events (unnamed SSE, `data: [DONE]` last).
///
/// Text and tool-call fragments are forwarded as they arrive (tool calls keep upstream's
/// `index`, so interleaved parallel calls stay apart). `finish_reason` is forwarded at once; the
/// usage-only chunk (`choices: []`) that `include_usage` adds comes after it. `reasoning_content`
/// deltas (xAI, BytePlus, DeepSeek-style servers) are dropped: hidden reasoning is not part of
/// the answer the gateway returns and signs. `logprobs.content` entries (when the client asked for
/// them) become `.logprobs` events. A chunk carrying `{"error": …}` (how OpenAI and
/// compatible servers report failures after the 200) ends the stream with an error.
struct OpenAIStreamDecoder: UpstreamStreamDecoder {
    private(set) var isComplete = false
    private var finished = false

    mutating func decode(_ event: SSEEvent) throws(ProviderError) -> [CompletionEvent] {
        if event.data.trimmingPrefix(while: \.isWhitespace) == "[DONE]" {
            isComplete = true
            return []
        }
        let chunk = try JSONObject.upstream(event.data, what: "chat completion chunk")
        if let error = chunk["error"], !error.isNull {
            throw .upstreamError(message: error["message"]?.stringValue ?? JSONWriter.string(error, style: .compact))
        }
        var events: [CompletionEvent] = []
        if let choice = chunk["choices"]?.arrayValue?.first(where: { ($0["index"]?.numberValue?.intValue ?? 0) == 0 }) {
            let delta = choice["delta"]
            if let entries = choice["logprobs"]?["content"]?.arrayValue, !entries.isEmpty { events.append(.logprobs(entries)) }
            if let text = delta?["content"]?.stringValue, !text.isEmpty { events.append(.text(text)) }
            for call in delta?["tool_calls"]?.arrayValue ?? [] {
                guard let index = call["index"]?.numberValue?.intValue else {
                    throw .malformedUpstream(reason: "tool-call delta without an integer index")
                }
                let id = call["id"]?.stringValue
                let name = call["function"]?["name"]?.stringValue
                let arguments = call["function"]?["arguments"]?.stringValue ?? ""
                if id != nil || name != nil || !arguments.isEmpty {
                    events.append(.toolCall(index: index, id: id, name: name, arguments: arguments))
                }
            }
            if let reason = choice["finish_reason"]?.stringValue, !finished {
                finished = true
                events.append(.finish(Self.finishReason(reason)))
            }
        }
        if let usage = chunk["usage"]?.objectValue {
            events.append(.usage(Self.usage(usage)))
        }
        return events
    }

    mutating func finish() throws(ProviderError) -> [CompletionEvent] {
        // Some compatible servers close without `[DONE]`; a finish reason is then proof enough.
        guard isComplete || finished else {
            throw .malformedUpstream(reason: "stream ended before a finish_reason or [DONE] (upstream disconnected mid-answer)")
        }
        return []
    }

    static func finishReason(_ reason: String) -> FinishReason {
        switch reason {
        case "length": .length
        case "tool_calls", "function_call": .toolCalls
        case "content_filter": .contentFilter
        default: .stop
        }
    }

    static func usage(_ usage: JSONObject) -> TokenUsage {
        TokenUsage(
            promptTokens: usage["prompt_tokens"]?.numberValue?.intValue ?? 0,
            completionTokens: usage["completion_tokens"]?.numberValue?.intValue ?? 0,
            cachedPromptTokens: usage["prompt_tokens_details"]?["cached_tokens"]?.numberValue?.intValue,
            reasoningTokens: usage["completion_tokens_details"]?["reasoning_tokens"]?.numberValue?.intValue)
    }
}
