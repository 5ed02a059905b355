import GatewayCore

/// The one entry point for a signed route: validates the body, translates it into the chat
/// request providers receive, and computes the canonical form the signature covers.
///
/// Which canonical form is route-specific (ARCHITECTURE §6.2): chat bodies hash as chat, legacy
/// completions hash as completions (their own defaults), Anthropic messages hash as the chat
/// form of their translation. Use ``canonical``, never `CanonicalRequest(kind: .chat, body: chat.body)`,
/// or legacy completions would be signed under the wrong hash.
public struct InferenceRequest: Sendable {
    public enum Route: Sendable, CaseIterable {
        case chatCompletions
        case completions
        case messages
    }

    public let route: Route
    /// What providers receive (OpenAI chat dialect).
    public let chat: ChatRequest
    /// What `tee_request_hash` commits to.
    public let canonical: CanonicalRequest
    /// The original Anthropic request on `/v1/messages` (translated for a non-Claude model;
    /// Claude models take ``NativeMessagesRequest`` instead).
    public let anthropic: AnthropicRequest?

    public init(route: Route, body: JSONValue) throws(InvalidRequest) {
        self.route = route
        switch route {
        case .chatCompletions:
            chat = try ChatRequest(body: body)
            canonical = try CanonicalRequest(kind: .chat, body: body)
            anthropic = nil
        case .completions:
            chat = try ChatRequest(body: .object(try CompletionsToChat.translate(body)))
            canonical = try CanonicalRequest(kind: .completions, body: body)
            anthropic = nil
        case .messages:
            let request = try AnthropicRequest(body: body)
            let translated = try AnthropicToChat.translate(request)
            chat = try ChatRequest(body: .object(translated))
            // The hash keeps its documented default: an absent temperature is Anthropic's 1.0.
            var hashed = translated
            if hashed["temperature"] == nil { hashed["temperature"] = 1.0 }
            canonical = try CanonicalRequest(kind: .chat, body: .object(hashed))
            anthropic = request
        }
    }

}
