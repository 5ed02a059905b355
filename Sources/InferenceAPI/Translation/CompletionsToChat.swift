import GatewayCore

/// Legacy `/v1/completions` → chat, so one pipeline serves every route.
///
/// The prompt becomes a single user message. Defaults follow the legacy API and the signed
/// canonical form (ARCHITECTURE §6.2): an absent `max_tokens` is 16 and an absent `temperature`
/// 1.0, so the provider gets what the hash says; an explicit `null` temperature hashes (and is
/// sent) as 0.0, an explicit `null` max_tokens means no limit. Features chat cannot express are
/// refused rather than ignored: several prompts, token-id prompts, `echo`, `suffix`, `best_of`
/// above 1 and `logprobs`.
enum CompletionsToChat {
    static func translate(_ value: JSONValue) throws(InvalidRequest) -> JSONObject {
        guard case .object(let body) = value else {
            throw InvalidRequest("the request body must be a JSON object, not \(value.typeName)")
        }
        let fields = RequestFields(body)
        let prompt = try self.prompt(try fields.required("prompt"))
        if try fields.bool("echo") == true { throw InvalidRequest("'echo' is not supported", param: "echo") }
        if fields["suffix"] != nil {
            throw InvalidRequest("'suffix' is not supported: chat models do not insert text", param: "suffix")
        }
        if let bestOf = try fields.integer("best_of", atLeast: 1), bestOf > 1 {
            throw InvalidRequest(
                "best_of > 1 is not supported: the gateway signs exactly one completion", param: "best_of")
        }
        if fields["logprobs"] != nil { throw InvalidRequest("'logprobs' is not supported", param: "logprobs") }

        var chat = JSONObject()
        for (key, value) in body where !["prompt", "echo", "suffix", "best_of", "logprobs"].contains(key) {
            chat[key] = value
            if key == "model" { chat["messages"] = [["role": "user", "content": .string(prompt)]] }
        }
        switch body["temperature"] {
        case nil: chat["temperature"] = 1.0
        case .null?: chat["temperature"] = 0.0
        default: break
        }
        if body["max_tokens"] == nil { chat["max_tokens"] = 16 }
        return chat
    }

    static func prompt(_ prompt: JSONValue) throws(InvalidRequest) -> String {
        switch prompt {
        case .string(let text): return text
        case .array(let items):
            guard items.count == 1 else {
                throw InvalidRequest(
                    "'prompt' must be a string or a list of exactly one string; send one prompt per request (got \(items.count))",
                    param: "prompt")
            }
            guard case .string(let text) = items[0] else {
                throw InvalidRequest(
                    "'prompt[0]' must be a string; token-id prompts are not supported", param: "prompt[0]")
            }
            return text
        default: throw RequestFields.typeError("prompt", expected: "a string or a list of one string", got: prompt)
        }
    }
}
