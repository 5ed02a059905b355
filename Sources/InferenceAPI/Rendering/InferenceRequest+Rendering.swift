import GatewayCore

/// The route decides the response dialect; these pick the matching renderer so the worker needs
/// no per-route switch of its own.
extension InferenceRequest {
    /// Errors on this route use this shape.
    public var dialect: APIDialect { route.dialect }

    /// The model string to echo: the client's, verbatim.
    public var model: String { anthropic?.model ?? chat.model }

    public var stream: Bool { anthropic?.stream ?? chat.stream }

    /// A renderer for a streamed answer; `created` is the stream's start time (Unix seconds),
    /// repeated on every OpenAI chunk.
    public func streamRenderer(id: String, created: UInt64) -> any StreamRenderer {
        switch route {
        case .chatCompletions:
            ChatCompletionStream(id: id, model: model, created: created, includeUsage: chat.includeUsage, logprobs: chat.logprobs)
        case .completions: TextCompletionStream(id: id, model: model, created: created, includeUsage: chat.includeUsage)
        case .messages: AnthropicMessageStream(id: id, model: model)
        }
    }

    /// The complete non-streamed response body for an answer and its signature.
    public func responseBody(_ answer: CompletionAccumulator, id: String, signature: TEESignature) -> [UInt8] {
        switch route {
        case .chatCompletions: ChatCompletionResponse.body(answer, id: id, model: model, signature: signature, logprobs: chat.logprobs)
        case .completions: TextCompletionResponse.body(answer, id: id, model: model, signature: signature)
        case .messages: AnthropicMessageResponse.body(answer, id: id, model: model, signature: signature)
        }
    }
}
