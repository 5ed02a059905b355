import GatewayCore

/// OpenAI Chat Completions, and every server that speaks it: xAI, BytePlus ModelArk and
/// configured OpenAI-compatible base URLs differ only in the route's base URL and key.
public struct OpenAIChatProvider: ChatProvider {
    let http: UpstreamHTTPClient

    public init(http: UpstreamHTTPClient) { self.http = http }

    public func complete(_ request: JSONObject, route: ModelRoute, apiKey: String?) -> AsyncThrowingStream<CompletionEvent, Error> {
        do throws(ProviderError) {
            let upstream = try OpenAIRequestBuilder.request(request, route: route, apiKey: apiKey)
            return http.stream(upstream, provider: route.provider, decoder: OpenAIStreamDecoder())
        } catch {
            return .failing(error)
        }
    }
}
