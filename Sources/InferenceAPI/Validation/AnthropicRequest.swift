import GatewayCore

/// A `/v1/messages` (or `/v1/messages/count_tokens`) body that passed Anthropic's rules.
///
/// The form used when a `/v1/messages` request goes to a non-Claude model and so is translated
/// into the chat dialect (Claude models take ``NativeMessagesRequest``, passed through as sent).
/// Every top-level field either has a translation (``AnthropicToChat``) or is refused by name;
/// `top_k`, `service_tier`, `output_config`, `container`, `mcp_servers` and unknown fields have
/// none for the chat dialect and get a 400.
///
/// Two deliberate limits: at most 4 `stop_sequences` (the translated `stop` must be valid for
/// OpenAI-style providers), and only client tools (`input_schema`); server tools such as
/// `web_search` have no provider-neutral equivalent and get a 400.
public struct AnthropicRequest: Sendable {
    public let body: JSONObject
    public let model: String
    /// Required for `/v1/messages`; `nil` for `count_tokens`, which takes none.
    public let maxTokens: Int?
    public let stream: Bool

    /// Fields with a chat translation; anything else is refused by name.
    static let translatedFields: Set<String> = [
        "model", "messages", "max_tokens", "system", "tools", "tool_choice", "stop_sequences", "temperature",
        "top_p", "metadata", "stream", "thinking",
    ]

    /// `countingTokens` relaxes what `count_tokens` does not take (`max_tokens`, `stream`).
    public init(body value: JSONValue, countingTokens: Bool = false) throws(InvalidRequest) {
        guard case .object(let body) = value else {
            throw InvalidRequest("the request body must be a JSON object, not \(value.typeName)")
        }
        let fields = RequestFields(body)
        model = try fields.requiredString("model")
        guard !model.isEmpty else { throw InvalidRequest("'model' must not be empty", param: "model") }
        if countingTokens {
            maxTokens = try fields.integer("max_tokens", atLeast: 1)
        } else {
            _ = try fields.required("max_tokens")
            maxTokens = try fields.integer("max_tokens", atLeast: 1)
        }
        stream = try fields.bool("stream") ?? false

        try AnthropicContentRules.checkSystem(fields)
        try AnthropicContentRules.checkMessages(try fields.required("messages"))
        let toolNames = try Self.checkTools(fields)
        try Self.checkToolChoice(fields, toolNames: toolNames)
        if let stops = try fields.array("stop_sequences") {
            guard stops.count <= 4 else {
                throw InvalidRequest(
                    "at most 4 'stop_sequences' are supported (they become OpenAI's 'stop'), got \(stops.count)",
                    param: "stop_sequences")
            }
            for (i, stop) in stops.enumerated() where stop.stringValue == nil {
                throw RequestFields.typeError("stop_sequences[\(i)]", expected: "a string", got: stop)
            }
        }
        _ = try fields.number("temperature", in: 0...1)
        _ = try fields.number("top_p", in: 0...1)
        _ = try fields.integer("top_k", atLeast: 0)
        if let metadata = try fields.fields("metadata") { _ = try metadata.string("user_id") }
        try Self.checkThinking(fields, maxTokens: maxTokens)

        if let metadata = try fields.fields("metadata") {
            for key in metadata.object.keys where key != "user_id" {
                throw InvalidRequest("'metadata.\(key)' is not an Anthropic metadata field (only user_id is)", param: "metadata.\(key)")
            }
        }
        for (key, value) in body where !value.isNull && !Self.translatedFields.contains(key) {
            throw InvalidRequest(
                "'\(key)' cannot be sent to '\(model)': it is not a Claude model, so the request is translated for its provider, and '\(key)' has no translation",
                param: key)
        }
        self.body = body
    }

    static func checkTools(_ fields: RequestFields) throws(InvalidRequest) -> [String] {
        var names = [String]()
        for (i, value) in (try fields.array("tools") ?? []).enumerated() {
            let tool = try RequestFields(value, path: "tools[\(i)]")
            if let type = try tool.string("type"), type != "custom" {
                throw InvalidRequest(
                    "server tool '\(type)' is not supported; only client tools with an 'input_schema' are",
                    param: tool.param("type"))
            }
            let name = try tool.requiredString("name")
            guard isValidToolName(name) else {
                throw InvalidRequest(
                    "Invalid '\(tool.param("name"))': '\(name)' does not match '^[a-zA-Z0-9_-]{1,64}$'",
                    param: tool.param("name"))
            }
            _ = try tool.string("description")
            let schema = try tool.requiredFields("input_schema")
            guard try schema.string("type") == "object" else {
                throw InvalidRequest("'\(schema.param("type"))' must be 'object'", param: schema.param("type"))
            }
            names.append(name)
        }
        return names
    }

    static func checkToolChoice(_ fields: RequestFields, toolNames: [String]) throws(InvalidRequest) {
        guard let choice = try fields.fields("tool_choice") else { return }
        _ = try choice.requiredString("type")
        let type = try choice.choice("type", ["auto", "any", "tool", "none"])
        _ = try choice.bool("disable_parallel_tool_use")
        if type == "tool" {
            let name = try choice.requiredString("name")
            guard toolNames.contains(name) else {
                throw InvalidRequest("tool_choice names '\(name)', which is not in 'tools'", param: "tool_choice.name")
            }
        }
        if type == "any", toolNames.isEmpty {
            throw InvalidRequest("tool_choice 'any' needs at least one tool in 'tools'", param: "tool_choice")
        }
    }

    static func checkThinking(_ fields: RequestFields, maxTokens: Int?) throws(InvalidRequest) {
        guard let thinking = try fields.fields("thinking") else { return }
        _ = try thinking.requiredString("type")
        guard try thinking.choice("type", ["enabled", "disabled", "adaptive"]) == "enabled" else { return }
        _ = try thinking.required("budget_tokens")
        guard let budget = try thinking.integer("budget_tokens", atLeast: 1024) else { return }
        if let maxTokens, budget >= maxTokens {
            throw InvalidRequest(
                "'thinking.budget_tokens' (\(budget)) must be less than 'max_tokens' (\(maxTokens))",
                param: "thinking.budget_tokens")
        }
    }
}
