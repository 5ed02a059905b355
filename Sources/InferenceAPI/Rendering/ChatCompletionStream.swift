import GatewayCore

/// OpenAI `chat.completion.chunk` SSE, with the gateway's signature on the finishing chunk.
///
/// Frame order: content and tool-call deltas as they arrive (the first chunk also carries
/// `role`; a call's first fragment carries `index`, `id`, `type`, `name`, later ones `index` and
/// `arguments` only); then one chunk with `delta: {}`, `finish_reason` and the `tee_*` fields;
/// then, only when `stream_options.include_usage` was set, OpenAI's usage chunk (`choices: []`);
/// then `data: [DONE]`.
///
/// Usage when the client did not ask for it: OpenAI would send none, ARCHITECTURE §6.3 wants it
/// on the final chunk (billing and upstream compatibility read it there). We put it on the
/// finishing chunk in that case only; with `include_usage` it goes in the usage chunk alone, so
/// clients that sum usage across chunks (LangChain does) never count it twice.
public struct ChatCompletionStream: StreamRenderer {
    let id: String
    let model: String
    /// Unix seconds at stream start; the same on every chunk, as OpenAI requires.
    let created: UInt64
    let includeUsage: Bool
    /// The client asked for logprobs: they go out on their own chunks, in order with the text.
    let logprobs: Bool
    public private(set) var accumulator = CompletionAccumulator()
    private var roleSent = false
    private var startedCalls: Set<Int> = []

    public init(id: String, model: String, created: UInt64, includeUsage: Bool, logprobs: Bool = false) {
        self.id = id
        self.model = model
        self.created = created
        self.includeUsage = includeUsage
        self.logprobs = logprobs
    }

    public mutating func render(_ event: CompletionEvent) -> [UInt8] {
        accumulator.add(event)
        switch event {
        case .text(let piece):
            guard !piece.isEmpty else { return [] }
            return SSE.data(.object(chunk(delta: JSONObject.with(["content": .string(piece)]))))
        case .toolCall(let index, let callID, let name, let arguments):
            var call = JSONObject.with(["index": .number(JSONNumber(index))])
            if startedCalls.insert(index).inserted {
                call["id"] = .string(callID ?? "")
                call["type"] = "function"
                call["function"] = ["name": .string(name ?? ""), "arguments": .string(arguments)]
            } else {
                guard !arguments.isEmpty else { return [] }
                call["function"] = ["arguments": .string(arguments)]
            }
            return SSE.data(.object(chunk(delta: JSONObject.with(["tool_calls": [.object(call)]]))))
        case .logprobs(let entries):
            guard logprobs, !entries.isEmpty else { return [] }
            return SSE.data(.object(chunk(delta: JSONObject(), logprobs: ["content": .array(entries), "refusal": nil])))
        case .finish, .usage:
            return []
        }
    }

    public mutating func finish(_ signature: TEESignature) -> [UInt8] {
        SSE.openAIEnd(
            finishing: chunk(delta: JSONObject(), finishReason: .string(accumulator.resolvedFinishReason.rawValue)), header: header(),
            usage: accumulator.usage?.openAIJSON, includeUsage: includeUsage, signature: signature)
    }

    public func fail(_ error: APIError) -> [UInt8] { error.streamFrame(.openAI) }

    private func header() -> JSONObject {
        JSONObject.with([
            "id": .string(id), "object": "chat.completion.chunk",
            "created": .number(JSONNumber(Int(clamping: created))), "model": .string(model),
        ])
    }

    private mutating func chunk(delta: JSONObject, finishReason: JSONValue = .null, logprobs: JSONValue = .null) -> JSONObject {
        var delta = delta
        if !roleSent {
            delta = JSONObject([("role", "assistant")] + delta.members.map { ($0.key, $0.value) })
            roleSent = true
        }
        var object = header()
        object["choices"] = [["index": 0, "delta": .object(delta), "logprobs": logprobs, "finish_reason": finishReason]]
        if includeUsage { object["usage"] = .null }
        return object
    }
}
