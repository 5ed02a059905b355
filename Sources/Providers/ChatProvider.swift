import GatewayCore

/// One upstream dialect (or the local model) behind the gateway's provider-neutral events.
///
/// `request` is the client's validated OpenAI-style chat body; adapters translate it to their
/// wire format. Every failure, including ones found before any network call (a missing key, an
/// unsupported option), is thrown from the stream as a ``ProviderError``, after whatever events
/// were already delivered, so callers have one error path. Cancelling the consuming task (or
/// dropping the stream) cancels the upstream request. `apiKey` comes from the key service at
/// runtime and is never logged.
public protocol ChatProvider: Sendable {
    func complete(_ request: JSONObject, route: ModelRoute, apiKey: String?) -> AsyncThrowingStream<CompletionEvent, Error>
}

extension AsyncThrowingStream where Element == CompletionEvent, Failure == Error {
    static func failing(_ error: ProviderError) -> Self {
        AsyncThrowingStream { $0.finish(throwing: error) }
    }
}

/// The gateway's providers, picked by route: the worker's single entry point.
public struct ProviderRouter: Sendable {
    public let openAICompatible: OpenAIChatProvider
    public let anthropic: AnthropicProvider
    public let gemini: GeminiProvider
    public let local: LocalModel
    /// `/v1/messages` for Claude models, passed through unchanged.
    public let anthropicNative: AnthropicNative

    public init(http: UpstreamHTTPClient, local: LocalModel = LocalModel()) {
        openAICompatible = OpenAIChatProvider(http: http)
        anthropic = AnthropicProvider(http: http)
        anthropicNative = AnthropicNative(http: http)
        gemini = GeminiProvider(http: http)
        self.local = local
    }

    public func provider(for route: ModelRoute) -> any ChatProvider {
        switch route.provider {
        case .openAI, .xAI, .byteDance, .openAICompatible: openAICompatible
        case .anthropic: anthropic
        case .google: gemini
        case .local: local
        }
    }

    /// Enforces ``ChatFieldPolicy`` (every field forwarded, translated or refused by name), then
    /// hands the request to the route's adapter.
    public func complete(_ request: JSONObject, route: ModelRoute, apiKey: String?) -> AsyncThrowingStream<CompletionEvent, Error> {
        do throws(ProviderError) {
            try ChatFieldPolicy.check(request, route: route)
        } catch {
            return .failing(error)
        }
        return provider(for: route).complete(request, route: route, apiKey: apiKey)
    }
}
