import GatewayCore

/// A model served by an OpenAI-compatible server named in configuration (vLLM, OpenRouter…).
public struct ConfiguredModel: Sendable, Hashable {
    public var id: String
    public var apiName: String
    /// Names the server in errors, `/health` and `ProviderKind.openAICompatible`.
    public var providerName: String
    public var baseURL: String
    /// Key-service name of its key; nil for servers that need no `Authorization` header.
    public var keyName: String?
    public var inputPricePerToken: Double
    public var outputPricePerToken: Double

    public init(
        id: String, apiName: String, providerName: String, baseURL: String, keyName: String?,
        inputPricePerToken: Double = 0, outputPricePerToken: Double = 0
    ) {
        self.id = id
        self.apiName = apiName
        self.providerName = providerName
        self.baseURL = baseURL
        self.keyName = keyName
        self.inputPricePerToken = inputPricePerToken
        self.outputPricePerToken = outputPricePerToken
    }
}

/// The model id is not in the registry; the API answers 404 with this message.
public struct UnknownModelError: Error, Equatable, CustomStringConvertible {
    public let model: String
    public let supported: [String]
    /// Set when the id is one a provider has retired: the API answers 400 naming the replacement.
    public var retiredInFavourOf: String? = nil

    public var description: String {
        if let replacement = retiredInFavourOf {
            return "The model '\(model)' has been retired by its provider and is no longer served; use '\(replacement)' instead"
        }
        return "Unsupported model: '\(model)'. Supported models: \(supported.joined(separator: ", "))"
    }
}

/// Maps client-facing model ids to routes.
///
/// Lookup normalizes like upstream (`model.strip().lower()`, no prefix matching, no fallback), so
/// `" GPT-4.1 "` routes like `gpt-4.1`; the string the client sent is still what gets echoed and
/// hashed. Configured models may add ids but never shadow a built-in one.
public struct ModelRegistry: Sendable {
    private var routes: [String: ModelRoute] = [:]

    public init(baseURLs: ProviderBaseURLs = .production, configured: [ConfiguredModel] = []) {
        for entry in Self.builtIn {
            let route = ModelRoute(
                provider: entry.provider, apiName: entry.apiName, baseURL: baseURLs.url(for: entry.provider),
                keyName: Self.keyName(entry.provider), inputPricePerToken: entry.input, outputPricePerToken: entry.output,
                forceTemperature: entry.forceTemperature, thinkingBudget: entry.thinkingBudget)
            for id in entry.ids { routes[id] = route }
        }
        for model in configured where routes[ModelID.normalize(model.id)] == nil {
            var baseURL = model.baseURL
            while baseURL.hasSuffix("/") { baseURL.removeLast() }
            routes[ModelID.normalize(model.id)] = ModelRoute(
                provider: .openAICompatible(name: model.providerName), apiName: model.apiName, baseURL: baseURL,
                keyName: model.keyName, inputPricePerToken: model.inputPricePerToken,
                outputPricePerToken: model.outputPricePerToken)
        }
    }

    /// Every id the registry answers to, sorted (for `/v1/models` and the unknown-model hint).
    public var modelIDs: [String] { routes.keys.sorted() }

    public func route(for model: String) throws(UnknownModelError) -> ModelRoute {
        let id = ModelID.normalize(model)
        if let replacement = Self.retired[id] {
            throw UnknownModelError(model: model, supported: modelIDs, retiredInFavourOf: replacement)
        }
        guard let route = routes[id] else { throw UnknownModelError(model: model, supported: modelIDs) }
        return route
    }

    /// Ids upstream's table still routes but their provider no longer lists, with the id to use.
    /// Source: the model list of the current official `anthropic` SDK (2.17,
    /// `anthropic/types/model_param.py`), which no longer names Claude Sonnet 4.0 or 4.5.
    static let retired: [String: String] = [
        "claude-sonnet-4-0": "claude-sonnet-4-6", "claude-4.0-sonnet": "claude-sonnet-4-6",
        "claude-sonnet-4-5": "claude-sonnet-4-6",
    ]

    static func keyName(_ provider: ProviderKind) -> String? {
        switch provider {
        case .openAI: "openai_api_key"
        case .anthropic: "anthropic_api_key"
        case .google: "google_api_key"
        case .xAI: "xai_api_key"
        case .byteDance: "bytedance_api_key"
        case .openAICompatible, .local: nil
        }
    }

    private struct Entry {
        var ids: [String]
        var provider: ProviderKind
        var apiName: String
        var input: Double
        var output: Double
        var forceTemperature: Double? = nil
        var thinkingBudget: Int? = nil
    }

    /// Upstream's `model_registry.py` table, the seed's ByteDance models (BytePlus ModelArk model
    /// ids; prices are ModelArk's list prices for the ≤128k-token tier), `gemini-3-pro-preview`
    /// from the seed's model list, and `local`. Sources per provider: OpenAI and xAI ids as their
    /// model pages list them; Anthropic ids as the official `anthropic` SDK 2.17 lists them
    /// (`types/model_param.py`, retired ids in ``retired``); Gemini ids as google-genai 3.6 calls
    /// them on `v1beta` (`models/{id}:streamGenerateContent`).
    private static let builtIn: [Entry] = [
        Entry(ids: ["gpt-4.1", "gpt-4.1-2025-04-14"], provider: .openAI, apiName: "gpt-4.1-2025-04-14", input: 0.000002, output: 0.000008),
        Entry(ids: ["o4-mini"], provider: .openAI, apiName: "o4-mini", input: 0.0000011, output: 0.0000044, forceTemperature: 1.0),
        Entry(ids: ["gpt-5"], provider: .openAI, apiName: "gpt-5", input: 0.00000125, output: 0.00001),
        Entry(ids: ["gpt-5-mini"], provider: .openAI, apiName: "gpt-5-mini", input: 0.00000025, output: 0.000002),
        Entry(ids: ["gpt-5.2"], provider: .openAI, apiName: "gpt-5.2", input: 0.00000175, output: 0.000014),
        Entry(ids: ["claude-sonnet-4-6"], provider: .anthropic, apiName: "claude-sonnet-4-6", input: 0.000003, output: 0.000015),
        Entry(ids: ["claude-haiku-4-5"], provider: .anthropic, apiName: "claude-haiku-4-5-20251001", input: 0.000001, output: 0.000005),
        Entry(ids: ["claude-opus-4-5"], provider: .anthropic, apiName: "claude-opus-4-5-20251101", input: 0.000005, output: 0.000025),
        Entry(ids: ["claude-opus-4-6"], provider: .anthropic, apiName: "claude-opus-4-6", input: 0.000005, output: 0.000025),
        Entry(ids: ["gemini-2.5-flash"], provider: .google, apiName: "gemini-2.5-flash", input: 0.0000003, output: 0.0000025, thinkingBudget: 0),
        Entry(ids: ["gemini-2.5-pro"], provider: .google, apiName: "gemini-2.5-pro", input: 0.00000125, output: 0.00001, thinkingBudget: 128),
        Entry(ids: ["gemini-2.5-flash-lite"], provider: .google, apiName: "gemini-2.5-flash-lite", input: 0.0000001, output: 0.0000004, thinkingBudget: 0),
        Entry(ids: ["gemini-3-flash-preview"], provider: .google, apiName: "gemini-3-flash-preview", input: 0.0000005, output: 0.000003),
        Entry(ids: ["gemini-3-pro-preview"], provider: .google, apiName: "gemini-3-pro-preview", input: 0.000002, output: 0.000012),
        Entry(ids: ["grok-4"], provider: .xAI, apiName: "grok-4", input: 0.000003, output: 0.000015),
        Entry(ids: ["grok-4-fast"], provider: .xAI, apiName: "grok-4-fast", input: 0.0000002, output: 0.0000005),
        Entry(ids: ["grok-4-1-fast", "grok-4.1-fast"], provider: .xAI, apiName: "grok-4-1-fast", input: 0.0000002, output: 0.0000005),
        Entry(ids: ["grok-4-1-fast-non-reasoning"], provider: .xAI, apiName: "grok-4-1-fast-non-reasoning", input: 0.0000002, output: 0.0000005),
        Entry(ids: ["grok-3-mini", "grok-3-mini-beta"], provider: .xAI, apiName: "grok-3-mini", input: 0.0000003, output: 0.0000005),
        Entry(ids: ["grok-3", "grok-3-beta"], provider: .xAI, apiName: "grok-3-latest", input: 0.000003, output: 0.000015),
        Entry(ids: ["seed-1.6"], provider: .byteDance, apiName: "seed-1-6-250915", input: 0.00000025, output: 0.000002),
        Entry(ids: ["seed-1.8"], provider: .byteDance, apiName: "seed-1-8-251228", input: 0.00000025, output: 0.000002),
        Entry(ids: ["seed-2.0-lite"], provider: .byteDance, apiName: "seed-2-0-lite-260228", input: 0.00000025, output: 0.000002),
        Entry(ids: ["local"], provider: .local, apiName: "local", input: 0, output: 0),
    ]
}
