import GatewayCore

/// A `/v1/chat/completions` body that passed every check, with the facts the worker acts on.
///
/// All three routes end here (legacy completions and Anthropic messages are translated into this
/// shape first), so providers only ever see one request dialect.
///
/// Unknown top-level fields are accepted and not forwarded: OpenAI itself rejects unrecognized
/// arguments, but SDKs and frameworks routinely add vendor extras (`top_k`, `repetition_penalty`,
/// `extra_body` contents), and a 400 for them would break unchanged clients. They are listed in
/// ``ignoredFields`` so the worker can tell the client (e.g. in a response header) instead of
/// dropping them silently, and they are never hashed.
public struct ChatRequest: Sendable {
    /// The body as the client sent it (after translation for the other routes).
    public let body: JSONObject
    /// The client's model string, echoed verbatim in responses.
    public let model: String
    public let stream: Bool
    /// `stream_options.include_usage`: the client asked for OpenAI's separate usage chunk.
    public let includeUsage: Bool
    /// `max_completion_tokens`, else `max_tokens`: the output limit to send upstream.
    public let maxTokens: Int?
    public let tools: [ChatTool]
    public let responseFormat: ResponseFormat
    /// Top-level fields the gateway does not act on, in body order.
    public let ignoredFields: [String]

    /// Fields the gateway validates and forwards; anything else lands in ``ignoredFields``.
    static let handledFields: Set<String> = [
        "model", "messages", "stream", "stream_options", "temperature", "top_p", "n", "presence_penalty",
        "frequency_penalty", "max_tokens", "max_completion_tokens", "stop", "seed", "tools", "tool_choice",
        "parallel_tool_calls", "response_format", "reasoning_effort", "logprobs", "top_logprobs", "user",
    ]

    public init(body value: JSONValue) throws(InvalidRequest) {
        guard case .object(let body) = value else {
            throw InvalidRequest("the request body must be a JSON object, not \(value.typeName)")
        }
        let fields = RequestFields(body)
        model = try fields.requiredString("model")
        guard !model.isEmpty else { throw InvalidRequest("'model' must not be empty", param: "model") }
        try ChatMessageRules.check(try fields.required("messages"))

        stream = try fields.bool("stream") ?? false
        if let options = try fields.fields("stream_options") {
            guard stream else {
                throw InvalidRequest(
                    "The 'stream_options' parameter is only allowed when 'stream' is enabled.", param: "stream_options")
            }
            includeUsage = try options.bool("include_usage") ?? false
        } else {
            includeUsage = false
        }

        _ = try fields.number("temperature", in: 0...2)
        _ = try fields.number("top_p", in: 0...1)
        _ = try fields.number("presence_penalty", in: -2...2)
        _ = try fields.number("frequency_penalty", in: -2...2)
        if let n = try fields.integer("n", atLeast: 1), n != 1 {
            throw InvalidRequest(
                "n > 1 is not supported: the gateway returns and signs exactly one choice per request", param: "n")
        }
        // OpenAI rejects 0 ("expected a value >= 1"), so we do too rather than hash a 0 that no provider honours.
        let maxTokens = try fields.integer("max_tokens", atLeast: 1)
        self.maxTokens = try fields.integer("max_completion_tokens", atLeast: 1) ?? maxTokens
        try Self.checkStop(fields)
        _ = try fields.integer("seed", atLeast: Int.min)
        if try fields.bool("logprobs") == true {
            throw InvalidRequest(
                "logprobs are not supported: providers behind the gateway do not all return them", param: "logprobs")
        }
        if fields["top_logprobs"] != nil {
            throw InvalidRequest(
                "top_logprobs is not supported: providers behind the gateway do not all return logprobs",
                param: "top_logprobs")
        }
        _ = try fields.string("user")
        _ = try fields.choice("reasoning_effort", ["none", "minimal", "low", "medium", "high", "xhigh"])
        _ = try fields.bool("parallel_tool_calls")
        tools = try ChatTool.parseAll(fields)
        try ChatTool.checkChoice(fields, tools: tools)
        responseFormat = try ResponseFormat(fields)

        self.body = body
        ignoredFields = body.keys.filter { !Self.handledFields.contains($0) }
    }

    static func checkStop(_ fields: RequestFields) throws(InvalidRequest) {
        guard let stop = fields["stop"] else { return }
        switch stop {
        case .string: return
        case .array(let items):
            guard items.count <= 4 else {
                throw InvalidRequest(
                    "Invalid 'stop': expected at most 4 sequences, but got \(items.count)", param: "stop")
            }
            for (i, item) in items.enumerated() where item.stringValue == nil {
                throw RequestFields.typeError("stop[\(i)]", expected: "a string", got: item)
            }
        default: throw RequestFields.typeError("stop", expected: "a string or an array of strings", got: stop)
        }
    }
}
