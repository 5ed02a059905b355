import GatewayCore

/// Builds the upstream Chat Completions body from the client's chat request.
///
/// Only the parameters below are forwarded (an allow-list, so a client cannot smuggle
/// provider-specific switches through the gateway); the client's messages go through as sent,
/// since every target speaks this dialect natively. The upstream call always streams with
/// `include_usage`, whatever the client asked: the API layer renders non-streaming answers from
/// the same events, and usage is needed for pricing.
enum OpenAIRequestBuilder {
    static let forwarded = ["messages", "top_p", "stop", "seed", "tools", "tool_choice", "parallel_tool_calls", "response_format", "reasoning_effort"]

    static func body(_ request: JSONObject, route: ModelRoute) throws(ProviderError) -> JSONObject {
        try ChatContent.requireSingleChoice(request)
        var body = JSONObject()
        body["model"] = .string(route.apiName)
        for key in forwarded { if let value = request[key], !value.isNull { body[key] = value } }
        if let forced = route.forceTemperature {
            body["temperature"] = .number(JSONNumber(forced))
        } else if let temperature = request["temperature"], !temperature.isNull {
            body["temperature"] = temperature
        }
        if let limit = ChatContent.maxTokens(request) {
            // OpenAI's reasoning models (o-series, gpt-5) reject the deprecated `max_tokens`; its
            // other models accept both. Compatible servers mostly know only `max_tokens`.
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
