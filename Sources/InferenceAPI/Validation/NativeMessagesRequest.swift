import GatewayCore

/// A `/v1/messages` (or `count_tokens`) body for a Claude model, sent to Anthropic as written.
///
/// Only what the gateway itself needs is checked — a JSON object with a `model`, a non-empty
/// `messages` array of objects with a `role`, an integer `max_tokens` ≥ 1 (not for
/// `count_tokens`), a boolean `stream` — because Anthropic validates the rest better than a copy
/// of its rules could, and new Anthropic features then work through the gateway unchanged. The
/// signature covers ``canonical`` (``AnthropicProjection``), not a chat translation.
public struct NativeMessagesRequest: Sendable {
    public let body: JSONObject
    public let model: String
    public let stream: Bool
    public let canonical: CanonicalRequest

    public init(body value: JSONValue, countingTokens: Bool = false) throws(InvalidRequest) {
        guard case .object(let body) = value else {
            throw InvalidRequest("the request body must be a JSON object, not \(value.typeName)")
        }
        let fields = RequestFields(body)
        model = try fields.requiredString("model")
        guard !model.isEmpty else { throw InvalidRequest("'model' must not be empty", param: "model") }
        guard let messages = try fields.array("messages") else {
            throw InvalidRequest("'messages' is a required property", param: "messages")
        }
        guard !messages.isEmpty else { throw InvalidRequest("'messages' must contain at least one message", param: "messages") }
        for (i, message) in messages.enumerated() {
            _ = try RequestFields(message, path: "messages[\(i)]").requiredString("role")
        }
        if !countingTokens {
            _ = try fields.required("max_tokens")
            _ = try fields.integer("max_tokens", atLeast: 1)
        }
        stream = try fields.bool("stream") ?? false
        self.body = body
        canonical = try CanonicalRequest(kind: .anthropicMessages, body: value)
    }
}
