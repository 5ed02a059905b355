import GatewayCore

/// The non-streaming `chat.completion` object.
///
/// `created` is the signature's timestamp, so the one time in the response is the signed one.
/// `content` is the text (possibly `""`), or `null` when the answer is only tool calls, as OpenAI
/// returns it. `usage` is left out when the provider reported none rather than invented.
public enum ChatCompletionResponse {
    /// `logprobs`: the client asked for them; the choice then carries `{"content": [...]}` as
    /// the provider reported them (not signed: they describe the answer, the hash covers it).
    public static func json(_ answer: CompletionAccumulator, id: String, model: String, signature: TEESignature, logprobs: Bool = false)
        -> JSONObject
    {
        let calls = answer.toolCalls
        var message = JSONObject.with([
            "role": "assistant", "content": answer.text.isEmpty && !calls.isEmpty ? .null : .string(answer.text),
        ])
        if !calls.isEmpty { message["tool_calls"] = .array(calls.map(\.json)) }
        var object = JSONObject.with([
            "id": .string(id), "object": "chat.completion",
            "created": .number(JSONNumber(Int(clamping: signature.timestamp))),
            "model": .string(model),
            "choices": [
                [
                    "index": 0, "message": .object(message),
                    "logprobs": logprobs ? ["content": .array(answer.logprobs), "refusal": nil] : nil,
                    "finish_reason": .string(answer.resolvedFinishReason.rawValue),
                ]
            ],
        ])
        if let usage = answer.usage { object["usage"] = usage.openAIJSON }
        signature.attach(to: &object)
        return object
    }

    public static func body(_ answer: CompletionAccumulator, id: String, model: String, signature: TEESignature, logprobs: Bool = false)
        -> [UInt8]
    {
        JSONWriter.serialize(.object(json(answer, id: id, model: model, signature: signature, logprobs: logprobs)), style: .compact)
    }
}
