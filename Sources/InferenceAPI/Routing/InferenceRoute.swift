/// The routing rule, in one place: which path is which route, which client dialect it speaks,
/// and whether a request on it reaches its provider translated or as sent.
///
/// The worker registers its handlers from ``InferenceRequest/Route/allCases`` and decides native
/// vs translated with ``InferenceRequest/Route/passesThrough(toAnthropic:)``; tls-front renders
/// its own errors with ``APIDialect/init(path:)``; renderers pick their format from ``InferenceRequest/Route/dialect``.
extension InferenceRequest.Route {
    /// The HTTP path (POST) of this route.
    public var path: String {
        switch self {
        case .chatCompletions: "/v1/chat/completions"
        case .completions: "/v1/completions"
        case .messages: "/v1/messages"
        }
    }

    public init?(path: String) {
        guard let route = Self.allCases.first(where: { $0.path == path }) else { return nil }
        self = route
    }

    /// Errors and streams on this route use this dialect.
    public var dialect: APIDialect { self == .messages ? .anthropic : .openAI }

    /// True when a request on this route goes to the provider as the client wrote it: Anthropic
    /// Messages to an Anthropic model. Every other combination is translated through the chat
    /// dialect (ChatFieldPolicy decides each field).
    public func passesThrough(toAnthropic providerIsAnthropic: Bool) -> Bool {
        self == .messages && providerIsAnthropic
    }

    /// `count_tokens` lives under the messages route and shares its dialect.
    public static let countTokensPath = "/v1/messages/count_tokens"
}

extension APIDialect {
    /// The dialect of any path the gateway serves: Anthropic's under `/v1/messages`, OpenAI's elsewhere.
    public init(path: String) {
        self = path == InferenceRequest.Route.messages.path || path.hasPrefix(InferenceRequest.Route.messages.path + "/")
            ? .anthropic : .openAI
    }
}
