import GatewayCore

/// `/v1/messages` for a Claude model, sent to Anthropic as the client wrote it.
///
/// The body goes through unchanged except `model`, which becomes the registry's Anthropic id;
/// fields the gateway does not know are kept (Anthropic validates them, as it would for a direct
/// call). The answer comes back unchanged too: a whole message for `stream: false`, or Anthropic's
/// own event stream, every event type in order. Versioning headers are the client's
/// (`anthropic-version`, `anthropic-beta`), else the SDK's current version.
public struct AnthropicNative: Sendable {
    let http: UpstreamHTTPClient

    public init(http: UpstreamHTTPClient) { self.http = http }

    /// Headers a client may set for Anthropic; everything else (auth above all) is the gateway's.
    public static let clientHeaders: Set<String> = ["anthropic-version", "anthropic-beta"]

    public enum Reply: Sendable {
        case message(JSONObject)
        case events(AsyncThrowingStream<SSEEvent, Error>)
    }

    public func messages(
        _ body: JSONObject, route: ModelRoute, apiKey: String?, clientHeaders: [(String, String)] = []
    ) async throws(ProviderError) -> Reply {
        let request = try upstream(body, path: "/messages", route: route, apiKey: apiKey, clientHeaders: clientHeaders)
        if body["stream"]?.boolValue == true { return .events(http.events(request, provider: route.provider)) }
        return .message(try await http.json(request, provider: route.provider))
    }

    /// Anthropic's own count (`POST /v1/messages/count_tokens`), `{"input_tokens": N}`.
    public func countTokens(
        _ body: JSONObject, route: ModelRoute, apiKey: String?, clientHeaders: [(String, String)] = []
    ) async throws(ProviderError) -> JSONObject {
        let request = try upstream(body, path: "/messages/count_tokens", route: route, apiKey: apiKey, clientHeaders: clientHeaders)
        return try await http.json(request, provider: route.provider)
    }

    func upstream(
        _ body: JSONObject, path: String, route: ModelRoute, apiKey: String?, clientHeaders: [(String, String)]
    ) throws(ProviderError) -> UpstreamRequest {
        guard let apiKey, !apiKey.isEmpty else { throw .missingCredentials(provider: route.provider.name) }
        var body = body
        body["model"] = .string(route.apiName)
        var headers: [(String, String)] = [("x-api-key", apiKey)]
        let passed = clientHeaders.filter { Self.clientHeaders.contains($0.0.lowercased()) }
        if !passed.contains(where: { $0.0.lowercased() == "anthropic-version" }) {
            headers.append(("anthropic-version", AnthropicProvider.apiVersion))
        }
        headers += passed.map { ($0.0.lowercased(), $0.1) }
        return UpstreamRequest(url: route.baseURL + path, headers: headers, body: JSONWriter.serialize(.object(body), style: .compact))
    }
}
