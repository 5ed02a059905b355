import GatewayCore

extension TokenUsage {
    /// OpenAI's `usage`, with the detail objects only when the provider reported them.
    var openAIJSON: JSONValue {
        var usage = JSONObject.with([
            "prompt_tokens": .number(JSONNumber(promptTokens)),
            "completion_tokens": .number(JSONNumber(completionTokens)),
            "total_tokens": .number(JSONNumber(totalTokens)),
        ])
        if let cachedPromptTokens {
            usage["prompt_tokens_details"] = ["cached_tokens": .number(JSONNumber(cachedPromptTokens))]
        }
        if let reasoningTokens {
            usage["completion_tokens_details"] = ["reasoning_tokens": .number(JSONNumber(reasoningTokens))]
        }
        return .object(usage)
    }

    /// Anthropic's `usage`: its `input_tokens` excludes cache reads, which are reported apart
    /// (adding them to both would double-count cached input).
    var anthropicJSON: JSONValue {
        let cached = cachedPromptTokens ?? 0
        return [
            "input_tokens": .number(JSONNumber(max(0, promptTokens - cached))),
            "output_tokens": .number(JSONNumber(completionTokens)),
            "cache_creation_input_tokens": 0, "cache_read_input_tokens": .number(JSONNumber(cached)),
        ]
    }
}

extension FinishReason {
    /// Anthropic's `stop_reason` for this finish (client-proxy-and-peers §3.6).
    var anthropicStopReason: String {
        switch self {
        case .stop: "end_turn"
        case .length: "max_tokens"
        case .toolCalls: "tool_use"
        case .contentFilter: "refusal"
        }
    }
}

extension CompletionAccumulator {
    /// The reported finish reason; when a provider sent none, `tool_calls` if there are calls,
    /// else `stop`, so responses always carry one.
    var resolvedFinishReason: FinishReason { finishReason ?? (toolCalls.isEmpty ? .stop : .toolCalls) }

    /// Anthropic usage, zeros when the provider reported none (the field is required there).
    var anthropicUsage: JSONValue { usage?.anthropicJSON ?? ["input_tokens": 0, "output_tokens": 0] }
}
