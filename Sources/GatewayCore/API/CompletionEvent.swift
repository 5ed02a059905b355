/// The provider-neutral vocabulary between upstream adapters and the API surfaces.
///
/// Every adapter (OpenAI, Anthropic, Gemini, xAI, ByteDance, any OpenAI-compatible URL, the local
/// model) turns its own wire format into this one stream of events, and both client dialects
/// (OpenAI chat/completions, Anthropic messages) are rendered from it. So translation is N + M
/// pieces of code instead of N × M, and the signed output is computed once, from events, the same
/// way for every provider.
public enum CompletionEvent: Sendable, Equatable {
    /// A piece of the answer text, in order.
    case text(String)
    /// A piece of a tool call. The first fragment of call `index` carries `id` and `name`; later
    /// fragments carry only more `arguments` text, which concatenates verbatim.
    case toolCall(index: Int, id: String?, name: String?, arguments: String)
    /// Why generation stopped; sent once, after the last text or tool-call event.
    case finish(FinishReason)
    /// Token usage for the whole request; may come before or after `finish`, at most once.
    case usage(TokenUsage)
    /// Per-token log probabilities as the provider reported them (OpenAI's `logprobs.content`
    /// entries), in order. Only sent when the client asked for `logprobs`; not signed (they
    /// describe the answer, they are not part of it).
    case logprobs([JSONValue])
}

/// OpenAI's `finish_reason` values; Anthropic's `stop_reason` maps onto them both ways.
public enum FinishReason: String, Sendable, Equatable, CaseIterable {
    case stop
    case length
    case toolCalls = "tool_calls"
    case contentFilter = "content_filter"
}

/// Token counts as OpenAI reports them: `promptTokens` includes cached input.
public struct TokenUsage: Sendable, Equatable {
    public var promptTokens: Int
    public var completionTokens: Int
    /// Part of `promptTokens` served from a provider cache, when the provider says.
    public var cachedPromptTokens: Int?
    /// Part of `completionTokens` spent on hidden reasoning, when the provider says.
    public var reasoningTokens: Int?

    public init(promptTokens: Int, completionTokens: Int, cachedPromptTokens: Int? = nil, reasoningTokens: Int? = nil) {
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.cachedPromptTokens = cachedPromptTokens
        self.reasoningTokens = reasoningTokens
    }

    public var totalTokens: Int { promptTokens + completionTokens }
}

/// Folds an event stream into the final answer: what non-streaming responses return and what the
/// output hash covers (text, or the tool calls when there are any — upstream's rule).
public struct CompletionAccumulator: Sendable {
    public private(set) var text = ""
    public private(set) var finishReason: FinishReason?
    public private(set) var usage: TokenUsage?
    /// Every `.logprobs` entry, in order; empty when the provider sent none.
    public private(set) var logprobs: [JSONValue] = []
    private var calls: [Int: ToolCall] = [:]

    public init() {}

    public mutating func add(_ event: CompletionEvent) {
        switch event {
        case .text(let piece): text += piece
        case .toolCall(let index, let id, let name, let arguments):
            var call = calls[index] ?? ToolCall(id: "", name: "", arguments: "")
            if let id { call.id = id }
            if let name { call.name = name }
            call.arguments += arguments
            calls[index] = call
        case .finish(let reason): finishReason = reason
        case .usage(let usage): self.usage = usage
        case .logprobs(let entries): logprobs += entries
        }
    }

    /// Tool calls in index order.
    public var toolCalls: [ToolCall] { calls.keys.sorted().compactMap { calls[$0] } }

    /// `tee_output_hash` for this answer.
    public var outputHash: Keccak256Digest {
        calls.isEmpty ? OutputHash.text(text) : OutputHash.toolCalls(toolCalls)
    }
}
