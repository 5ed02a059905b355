import GatewayCore

/// Builds the upstream Chat Completions body from the client's chat request.
///
/// Every server behind this builder speaks the client's dialect, so every field goes through
/// as sent, unknown ones included (the provider's own validation then decides, as it would for a
/// direct call) — see ``ChatFieldPolicy``. The gateway owns three things: `model` becomes the
/// provider's id, the output limit is spelled `max_completion_tokens` for OpenAI (its reasoning
/// models reject `max_tokens`) and `max_tokens` elsewhere, and the upstream call always streams
/// with `include_usage` (non-streaming answers are rendered from the same events, and usage is
/// needed for pricing). A route's forced temperature replaces the client's.
enum OpenAIRequestBuilder {
    static let gatewayOwned: Set<String> = ["model", "stream", "stream_options", "max_tokens", "max_completion_tokens", "n"]

    static func body(_ request: JSONObject, route: ModelRoute) throws(ProviderError) -> JSONObject {
        try ChatContent.requireSingleChoice(request)
        var body = JSONObject()
        body["model"] = .string(route.apiName)
        for (key, value) in request where !gatewayOwned.contains(key) && !value.isNull { body[key] = value }
        if let forced = route.forceTemperature { body["temperature"] = .number(JSONNumber(forced)) }
        if let limit = ChatContent.maxTokens(request) {
            body[route.provider == .openAI ? "max_completion_tokens" : "max_tokens"] = .number(JSONNumber(limit))
        }
        body["stream"] = true
        body["stream_options"] = ["include_usage": true]
        return body
    }

    static func request(_ request: JSONObject, route: ModelRoute, apiKey: String?) throws(ProviderError) -> UpstreamRequest {
        var headers: [(String, String)] = []
        if route.keyName != nil {
            guard let apiKey, !apiKey.isEmpty else { throw .missingCredentials(provider: route.provider.name) }
            headers.append(("authorization", "Bearer \(apiKey)"))
        }
        let body = try body(request, route: route)
        return UpstreamRequest(
            url: route.baseURL + "/chat/completions", headers: headers, body: JSONWriter.serialize(.object(body), style: .compact))
    }
}
