import GatewayCore

/// Google Gemini (`POST {base}/models/{model}:streamGenerateContent?alt=sse`, `x-goog-api-key`).
public struct GeminiProvider: ChatProvider {
    let http: UpstreamHTTPClient

    public init(http: UpstreamHTTPClient) { self.http = http }

    public func complete(_ request: JSONObject, route: ModelRoute, apiKey: String?) -> AsyncThrowingStream<CompletionEvent, Error> {
        do throws(ProviderError) {
            guard let apiKey, !apiKey.isEmpty else { throw .missingCredentials(provider: route.provider.name) }
            let body = try GeminiRequestTranslator.translate(request, route: route)
            let upstream = UpstreamRequest(
                url: "\(route.baseURL)/models/\(route.apiName):streamGenerateContent?alt=sse", headers: [("x-goog-api-key", apiKey)],
                body: JSONWriter.serialize(.object(body), style: .compact))
            return http.stream(upstream, provider: route.provider, decoder: GeminiStreamDecoder())
        } catch {
            return .failing(error)
        }
    }
}
