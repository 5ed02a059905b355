import GatewayCore

/// Server-sent event frames; each is complete on its own so the server can flush per event.
enum SSE {
    /// `data: <compact json>\n\n` (OpenAI's unnamed events).
    static func data(_ value: JSONValue) -> [UInt8] {
        var out = Array("data: ".utf8)
        JSONWriter.write(value, style: .compact, into: &out)
        out += [0x0A, 0x0A]
        return out
    }

    /// `event: <name>\ndata: <compact json>\n\n` (Anthropic's named events).
    static func event(_ name: String, _ value: JSONValue) -> [UInt8] { Array("event: \(name)\n".utf8) + data(value) }

    static let done = Array("data: [DONE]\n\n".utf8)

    /// How every OpenAI stream ends, chat and legacy completions alike: the finishing chunk
    /// `last` with the `tee_*` fields (and the usage, when the client did not ask for the usage
    /// chunk: see ``ChatCompletionStream``), then OpenAI's usage chunk (`header` with
    /// `choices: []`) only when `include_usage` was set, then `[DONE]`.
    static func openAIEnd(
        finishing last: JSONObject, header: JSONObject, usage: JSONValue?, includeUsage: Bool, signature: TEESignature
    ) -> [UInt8] {
        var last = last
        if !includeUsage, let usage { last["usage"] = usage }
        signature.attach(to: &last)
        var out = data(.object(last))
        if includeUsage {
            var usageChunk = header
            usageChunk["choices"] = []
            usageChunk["usage"] = usage ?? .null
            out += data(.object(usageChunk))
        }
        return out + done
    }
}
