import GatewayCore

/// The non-streaming Anthropic `message`, with the `tee_*` fields top-level.
///
/// Text comes first as one text block, then one `tool_use` block per call. `input` is the parsed
/// `arguments`; empty arguments are `{}`, and arguments that are not a JSON object (a model can
/// emit broken JSON) are passed as `{"raw_arguments": "<text>"}` rather than dropped, so the
/// client still sees exactly what the signature covers. A message always has at least one block.
/// `stop_sequence` is always `null` and a stop-string hit reports `end_turn`: providers answering
/// in the chat dialect do not say which stop string matched.
public enum AnthropicMessageResponse {
    public static func json(_ answer: CompletionAccumulator, id: String, model: String, signature: TEESignature)
        -> JSONObject
    {
        var content = [JSONValue]()
        if !answer.text.isEmpty { content.append(["type": "text", "text": .string(answer.text)]) }
        for call in answer.toolCalls {
            content.append([
                "type": "tool_use", "id": .string(call.id), "name": .string(call.name),
                "input": toolInput(call.arguments),
            ])
        }
        if content.isEmpty { content.append(["type": "text", "text": ""]) }
        var object = JSONObject.with([
            "id": .string(id), "type": "message", "role": "assistant", "model": .string(model),
            "content": .array(content),
            "stop_reason": .string(answer.resolvedFinishReason.anthropicStopReason), "stop_sequence": nil,
            "usage": answer.anthropicUsage,
        ])
        signature.attach(to: &object)
        return object
    }

    public static func body(_ answer: CompletionAccumulator, id: String, model: String, signature: TEESignature)
        -> [UInt8]
    {
        JSONWriter.serialize(.object(json(answer, id: id, model: model, signature: signature)), style: .compact)
    }

    static func toolInput(_ arguments: String) -> JSONValue {
        if arguments.allSatisfy(\.isWhitespace) { return [:] }
        if let parsed = try? JSONParser().parse(arguments), case .object = parsed { return parsed }
        return ["raw_arguments": .string(arguments)]
    }
}
