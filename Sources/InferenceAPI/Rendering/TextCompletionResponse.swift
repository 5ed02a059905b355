import GatewayCore

/// The legacy non-streaming `text_completion` object; `created` is the signed timestamp.
public enum TextCompletionResponse {
    public static func json(_ answer: CompletionAccumulator, id: String, model: String, signature: TEESignature)
        -> JSONObject
    {
        var object = JSONObject.with([
            "id": .string(id), "object": "text_completion",
            "created": .number(JSONNumber(Int(clamping: signature.timestamp))),
            "model": .string(model),
            "choices": [
                [
                    "text": .string(answer.text), "index": 0, "logprobs": nil,
                    "finish_reason": .string(answer.resolvedFinishReason.rawValue),
                ]
            ],
        ])
        if let usage = answer.usage { object["usage"] = usage.openAIJSON }
        signature.attach(to: &object)
        return object
    }

    public static func body(_ answer: CompletionAccumulator, id: String, model: String, signature: TEESignature)
        -> [UInt8]
    {
        JSONWriter.serialize(.object(json(answer, id: id, model: model, signature: signature)), style: .compact)
    }
}
