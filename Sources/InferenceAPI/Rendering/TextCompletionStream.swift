import GatewayCore

/// Legacy completions SSE: `text_completion` chunks with `choices[0].text`, a finishing chunk
/// (empty text, `finish_reason`, `tee_*`), OpenAI's usage chunk when `include_usage`, `[DONE]`.
/// Usage placement follows ``ChatCompletionStream``.
public struct TextCompletionStream: StreamRenderer {
    let id: String
    let model: String
    let created: UInt64
    let includeUsage: Bool
    public private(set) var accumulator = CompletionAccumulator()

    public init(id: String, model: String, created: UInt64, includeUsage: Bool) {
        self.id = id
        self.model = model
        self.created = created
        self.includeUsage = includeUsage
    }

    /// Throws on a tool call: a legacy completion has no way to show one, and the signature
    /// would cover calls the client never saw.
    public mutating func render(_ event: CompletionEvent) throws(APIError) -> [UInt8] {
        if case .toolCall = event {
            throw APIError.upstream("the provider answered a text completion with a tool call")
        }
        accumulator.add(event)
        guard case .text(let piece) = event, !piece.isEmpty else { return [] }
        return SSE.data(.object(chunk(text: piece, finishReason: .null)))
    }

    public mutating func finish(_ signature: TEESignature) -> [UInt8] {
        SSE.openAIEnd(
            finishing: chunk(text: "", finishReason: .string(accumulator.resolvedFinishReason.rawValue)), header: header(),
            usage: accumulator.usage?.openAIJSON, includeUsage: includeUsage, signature: signature)
    }

    public func fail(_ error: APIError) -> [UInt8] { error.streamFrame(.openAI) }

    private func header() -> JSONObject {
        JSONObject.with([
            "id": .string(id), "object": "text_completion", "created": .number(JSONNumber(Int(clamping: created))),
            "model": .string(model),
        ])
    }

    private func chunk(text: String, finishReason: JSONValue) -> JSONObject {
        var object = header()
        object["choices"] = [["text": .string(text), "index": 0, "logprobs": nil, "finish_reason": finishReason]]
        if includeUsage { object["usage"] = .null }
        return object
    }
}
