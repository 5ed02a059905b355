import GatewayCore

/// A `/v1/chat/completions` body that passed every check, with the facts the worker acts on.
///
/// All three routes end here (legacy completions and Anthropic messages are translated into this
/// shape first), so providers only ever see one request dialect.
///
/// Every field is either forwarded to the provider (translated where it spells it differently)
/// or refused by name: the provider side of that rule is `ChatFieldPolicy` in Providers, which
/// knows the target. Here the documented OpenAI fields are type- and range-checked; unknown
/// fields pass to that policy (OpenAI-compatible upstreams get them verbatim, others refuse them).
/// Only the fields upstream's projection names are hashed.
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
    /// `logprobs: true`: the provider's per-token log probabilities go back to the client.
    public let logprobs: Bool

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
        logprobs = try fields.bool("logprobs") ?? false
        if let top = try fields.integer("top_logprobs", atLeast: 0) {
            guard top <= 20 else {
                throw InvalidRequest("Invalid 'top_logprobs': expected a value <= 20, but got \(top)", param: "top_logprobs")
            }
            guard logprobs else {
                throw InvalidRequest("'top_logprobs' requires 'logprobs' to be true", param: "top_logprobs")
            }
        }
        _ = try fields.string("user")
        _ = try fields.string("safety_identifier")
        if let bias = try fields.fields("logit_bias") {
            for (token, value) in bias.object {
                _ = try bias.number(token, in: -100...100)
                _ = value
            }
        }
        if let metadata = try fields.fields("metadata") {
            for (key, _) in metadata.object { _ = try metadata.string(key) }
        }
        _ = try fields.bool("store")
        _ = try fields.string("service_tier")
        _ = try fields.fields("prediction")
        _ = try fields.array("modalities")
        _ = try fields.fields("audio")
        _ = try fields.fields("web_search_options")
        _ = try fields.choice("verbosity", ["low", "medium", "high"])
        _ = try fields.choice("reasoning_effort", ["none", "minimal", "low", "medium", "high", "xhigh"])
        _ = try fields.bool("parallel_tool_calls")
        tools = try ChatTool.parseAll(fields)
        try ChatTool.checkChoice(fields, tools: tools)
        responseFormat = try ResponseFormat(fields)

        self.body = body
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
