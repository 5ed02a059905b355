/// Which wire protocol and which key a model is served with.
public enum ProviderKind: Sendable, Hashable {
    case openAI
    case anthropic
    case google
    case xAI
    case byteDance
    /// An OpenAI-compatible server from configuration; `name` identifies it in errors and keys.
    case openAICompatible(name: String)
    /// The built-in deterministic model: no network, no key.
    case local

    /// The provider's name in logs, errors and `/health`.
    public var name: String {
        switch self {
        case .openAI: "openai"
        case .anthropic: "anthropic"
        case .google: "google"
        case .xAI: "x-ai"
        case .byteDance: "bytedance"
        case .openAICompatible(let name): name
        case .local: "local"
        }
    }
}

/// Everything needed to call the upstream model behind a client-facing model id.
public struct ModelRoute: Sendable, Hashable {
    public var provider: ProviderKind
    /// The model name upstream expects (the client's id is echoed and hashed elsewhere).
    public var apiName: String
    /// Base URL of the provider's API, without a trailing slash (e.g. `https://api.openai.com/v1`).
    public var baseURL: String
    /// Key-service name of the credential (`openai_api_key`…); nil when the server needs none.
    public var keyName: String?
    /// USD per input and per output token, for pricing.
    public var inputPricePerToken: Double
    public var outputPricePerToken: Double
    /// Replaces the client's temperature: some reasoning models accept only this value.
    public var forceTemperature: Double?
    /// Gemini `thinkingConfig.thinkingBudget`; nil leaves the model's default.
    public var thinkingBudget: Int?

    public init(
        provider: ProviderKind, apiName: String, baseURL: String, keyName: String?,
        inputPricePerToken: Double, outputPricePerToken: Double, forceTemperature: Double? = nil, thinkingBudget: Int? = nil
    ) {
        self.provider = provider
        self.apiName = apiName
        self.baseURL = baseURL
        self.keyName = keyName
        self.inputPricePerToken = inputPricePerToken
        self.outputPricePerToken = outputPricePerToken
        self.forceTemperature = forceTemperature
        self.thinkingBudget = thinkingBudget
    }
}
