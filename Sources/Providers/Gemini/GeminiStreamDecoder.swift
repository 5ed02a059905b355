import GatewayCore

/// Decodes `streamGenerateContent?alt=sse`: one `GenerateContentResponse` per `data:` line and no
/// terminator, so the stream is whole only if it ended after a `finishReason`.
///
/// Function calls arrive whole (Gemini does not split arguments); each becomes one tool-call
/// event with upstream's `id` or, when absent (most models), a generated `call_…` id; a part's
/// `thoughtSignature` rides along inside that id (``GeminiThoughtSignature``). Parts
/// marked `thought` are hidden reasoning and dropped. `usageMetadata` is cumulative per chunk,
/// so the latest replaces earlier ones. Finish and usage are emitted when the body ends: `STOP`
/// becomes `tool_calls` when calls were made, `MAX_TOKENS` `length`, the safety family
/// `content_filter`, anything else `stop`. A prompt blocked before generation
/// (`promptFeedback.blockReason`) finishes with `content_filter` and no text.
struct GeminiStreamDecoder: UpstreamStreamDecoder {
    let isComplete = false
    private var calls = 0
    private var finishReason: FinishReason?
    private var usage: TokenUsage?
    private let makeCallID: @Sendable () -> String

    init(makeCallID: @escaping @Sendable () -> String = GeminiStreamDecoder.randomCallID) { self.makeCallID = makeCallID }

    static func randomCallID() -> String {
        var generator = SystemRandomNumberGenerator()
        return "call_" + Hex.encode((0..<12).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    mutating func decode(_ event: SSEEvent) throws(ProviderError) -> [CompletionEvent] {
        let chunk = try JSONObject.upstream(event.data, what: "Gemini response chunk")
        if let error = chunk["error"], !error.isNull {
            throw .upstreamError(message: error["message"]?.stringValue ?? JSONWriter.string(error, style: .compact))
        }
        if let metadata = chunk["usageMetadata"]?.objectValue { usage = Self.usage(metadata) }
        if chunk["promptFeedback"]?["blockReason"]?.stringValue != nil { finishReason = .contentFilter }
        guard let candidate = chunk["candidates"]?.arrayValue?.first else { return [] }
        var events: [CompletionEvent] = []
        for part in candidate["content"]?["parts"]?.arrayValue ?? [] where part["thought"]?.boolValue != true {
            if let text = part["text"]?.stringValue, !text.isEmpty {
                events.append(.text(text))
            } else if let call = part["functionCall"] {
                guard let name = call["name"]?.stringValue else { throw .malformedUpstream(reason: "Gemini functionCall without a name") }
                let arguments = call["args"].map { JSONWriter.string($0, style: .compact) } ?? "{}"
                let id = GeminiThoughtSignature.join(call["id"]?.stringValue ?? makeCallID(), signature: part["thoughtSignature"]?.stringValue)
                events.append(.toolCall(index: calls, id: id, name: name, arguments: arguments))
                calls += 1
            }
        }
        if let reason = candidate["finishReason"]?.stringValue { finishReason = mapFinishReason(reason) }
        return events
    }

    mutating func finish() throws(ProviderError) -> [CompletionEvent] {
        guard let finishReason else {
            throw .malformedUpstream(reason: "Gemini stream ended without a finishReason (upstream disconnected mid-answer)")
        }
        return [.finish(finishReason)] + (usage.map { [.usage($0)] } ?? [])
    }

    private func mapFinishReason(_ reason: String) -> FinishReason {
        switch reason {
        case "STOP": calls > 0 ? .toolCalls : .stop
        case "MAX_TOKENS": .length
        case "SAFETY", "RECITATION", "PROHIBITED_CONTENT", "BLOCKLIST", "SPII", "IMAGE_SAFETY": .contentFilter
        default: calls > 0 ? .toolCalls : .stop
        }
    }

    /// OpenAI counts hidden reasoning inside completion tokens; Gemini reports it separately.
    static func usage(_ metadata: JSONObject) -> TokenUsage {
        func count(_ key: String) -> Int? { metadata[key]?.numberValue?.intValue }
        let thoughts = count("thoughtsTokenCount")
        return TokenUsage(
            promptTokens: count("promptTokenCount") ?? 0, completionTokens: (count("candidatesTokenCount") ?? 0) + (thoughts ?? 0),
            cachedPromptTokens: count("cachedContentTokenCount"), reasoningTokens: thoughts)
    }
}
