import GatewayCore

/// Anthropic Messages (`POST {base}/messages`, `x-api-key`, `anthropic-version`).
public struct AnthropicProvider: ChatProvider {
    /// The version the current official SDK sends (anthropic 2.17, `_constants.py`); a native
    /// `/v1/messages` request keeps the client's own `anthropic-version` instead.
    public static let apiVersion = "2026-10-21"
    let http: UpstreamHTTPClient

    public init(http: UpstreamHTTPClient) { self.http = http }

    public func complete(_ request: JSONObject, route: ModelRoute, apiKey: String?) -> AsyncThrowingStream<CompletionEvent, Error> {
        do throws(ProviderError) {
            guard let apiKey, !apiKey.isEmpty else { throw .missingCredentials(provider: route.provider.name) }
            let translation = try AnthropicRequestTranslator.translate(request, route: route)
            let upstream = UpstreamRequest(
                url: route.baseURL + "/messages", headers: [("x-api-key", apiKey), ("anthropic-version", Self.apiVersion)],
                body: JSONWriter.serialize(.object(translation.body), style: .compact))
            return http.stream(upstream, provider: route.provider, decoder: AnthropicStreamDecoder(structuredOutputTool: translation.structuredOutputTool))
        } catch {
            return .failing(error)
        }
    }
}
