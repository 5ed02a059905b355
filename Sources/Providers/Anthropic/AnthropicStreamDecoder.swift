import GatewayCore

/// Decodes Anthropic Messages SSE (`message_start`, `content_block_*`, `message_delta`,
/// `message_stop`, `ping`, `error`).
///
/// Tool-use blocks are numbered 0, 1, … in stream order, and each `input_json_delta` fragment is
/// forwarded at once as a tool-call event (never buffered until the JSON parses). A tool call
/// whose input stayed empty gets `{}` so its arguments are valid JSON. Thinking blocks are not
/// part of the answer and are dropped. In structured-output mode (see
/// ``AnthropicRequestTranslator``) the forced tool's input fragments become text and the
/// `tool_use` stop reason becomes `stop`. Finish and usage are emitted at `message_stop`, with
/// usage in OpenAI terms: prompt = input + cache creation + cache read.
struct AnthropicStreamDecoder: UpstreamStreamDecoder {
    let structuredOutputTool: String?
    private(set) var isComplete = false
    private var started = false
    /// Anthropic block index → tool-call index, and whether that call has sent arguments yet.
    private var toolBlocks: [Int: (call: Int, hasArguments: Bool)] = [:]
    private var structuredBlocks: Set<Int> = []
    private var textBlocks: Set<Int> = []
    private var stopReason: String?
    private var inputTokens = 0
    private var cacheCreationTokens = 0
    private var cacheReadTokens: Int?
    private var outputTokens = 0

    init(structuredOutputTool: String?) { self.structuredOutputTool = structuredOutputTool }

    mutating func decode(_ event: SSEEvent) throws(ProviderError) -> [CompletionEvent] {
        let payload = try JSONObject.upstream(event.data, what: "Anthropic '\(event.name ?? "unnamed")' event")
        let type = payload["type"]?.stringValue ?? event.name ?? ""
        guard started || type == "message_start" || type == "error" || type == "ping" else {
            throw .malformedUpstream(reason: "Anthropic stream began with '\(type)' instead of message_start")
        }
        switch type {
        case "message_start":
            started = true
            if let usage = payload["message"]?["usage"]?.objectValue { absorb(usage) }
            return []
        case "content_block_start":
            let index = try blockIndex(payload)
            let block = payload["content_block"]
            switch block?["type"]?.stringValue {
            case "text":
                textBlocks.insert(index)
                let text = block?["text"]?.stringValue ?? ""
                return text.isEmpty || structuredOutputTool != nil ? [] : [.text(text)]
            case "tool_use" where structuredOutputTool != nil && block?["name"]?.stringValue == structuredOutputTool:
                structuredBlocks.insert(index)
                return []
            case "tool_use":
                let call = toolBlocks.count
                toolBlocks[index] = (call, false)
                return [.toolCall(index: call, id: block?["id"]?.stringValue ?? "", name: block?["name"]?.stringValue ?? "", arguments: "")]
            default:
                return []
            }
        case "content_block_delta":
            let index = try blockIndex(payload)
            let delta = payload["delta"]
            switch delta?["type"]?.stringValue {
            case "text_delta":
                guard textBlocks.contains(index) else { throw .malformedUpstream(reason: "text_delta for block \(index), which is not a text block") }
                let text = delta?["text"]?.stringValue ?? ""
                return text.isEmpty || structuredOutputTool != nil ? [] : [.text(text)]
            case "input_json_delta":
                let fragment = delta?["partial_json"]?.stringValue ?? ""
                if structuredBlocks.contains(index) { return fragment.isEmpty ? [] : [.text(fragment)] }
                guard let tool = toolBlocks[index] else {
                    throw .malformedUpstream(reason: "input_json_delta for block \(index), which is not a tool_use block")
                }
                guard !fragment.isEmpty else { return [] }
                toolBlocks[index]?.hasArguments = true
                return [.toolCall(index: tool.call, id: nil, name: nil, arguments: fragment)]
            default:
                return []
            }
        case "content_block_stop":
            let index = try blockIndex(payload)
            if let tool = toolBlocks[index], !tool.hasArguments {
                toolBlocks[index]?.hasArguments = true
                return [.toolCall(index: tool.call, id: nil, name: nil, arguments: "{}")]
            }
            return []
        case "message_delta":
            if let reason = payload["delta"]?["stop_reason"]?.stringValue { stopReason = reason }
            if let usage = payload["usage"]?.objectValue { absorb(usage) }
            return []
        case "message_stop":
            isComplete = true
            return [.finish(finishReason()), .usage(usage)]
        case "error":
            throw .upstreamError(message: payload["error"]?["message"]?.stringValue ?? "unknown error")
        default:
            return []
        }
    }

    mutating func finish() throws(ProviderError) -> [CompletionEvent] {
        guard isComplete else { throw .malformedUpstream(reason: "Anthropic stream ended before message_stop (upstream disconnected mid-answer)") }
        return []
    }

    private func blockIndex(_ payload: JSONObject) throws(ProviderError) -> Int {
        guard let index = payload["index"]?.numberValue?.intValue, index >= 0 else {
            throw .malformedUpstream(reason: "Anthropic content block event without a valid index")
        }
        return index
    }

    /// Anthropic usage is cumulative; a later value replaces the earlier one field by field.
    private mutating func absorb(_ fields: JSONObject) {
        func count(_ key: String) -> Int? { fields[key]?.numberValue?.intValue }
        inputTokens = count("input_tokens") ?? inputTokens
        cacheCreationTokens = count("cache_creation_input_tokens") ?? cacheCreationTokens
        cacheReadTokens = count("cache_read_input_tokens") ?? cacheReadTokens
        outputTokens = count("output_tokens") ?? outputTokens
    }

    private var usage: TokenUsage {
        TokenUsage(
            promptTokens: inputTokens + cacheCreationTokens + (cacheReadTokens ?? 0), completionTokens: outputTokens,
            cachedPromptTokens: cacheReadTokens)
    }

    private func finishReason() -> FinishReason {
        switch stopReason {
        case "max_tokens", "model_context_window_exceeded": .length
        case "tool_use": structuredOutputTool == nil ? .toolCalls : .stop
        case "refusal": .contentFilter
        default: .stop
        }
    }
}
