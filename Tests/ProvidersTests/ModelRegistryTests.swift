import Testing

@testable import Providers

@Suite struct ModelRegistryTests {
    static let seedModels = [
        "gpt-4.1", "gpt-5", "gpt-5-mini", "o4-mini", "claude-sonnet-4-6", "claude-sonnet-4-6", "claude-haiku-4-5", "claude-opus-4-5",
        "claude-opus-4-6", "gemini-2.5-flash", "gemini-2.5-flash-lite", "gemini-2.5-pro", "gemini-3-pro-preview", "gemini-3-flash-preview",
        "grok-4", "grok-4-fast", "grok-4-1-fast", "grok-4-1-fast-non-reasoning", "seed-1.6", "seed-1.8", "seed-2.0-lite", "local",
    ]

    @Test(arguments: seedModels)
    func everySeedModelResolves(model: String) throws {
        let route = try ModelRegistry().route(for: model)
        #expect(!route.apiName.isEmpty)
        #expect(route.provider == .local || route.baseURL.hasPrefix("https://"))
        #expect(route.provider == .local || route.keyName != nil)
    }

    @Test func everyListedIDResolvesToItsProvidersBaseURL() throws {
        let registry = ModelRegistry()
        for id in registry.modelIDs {
            let route = try registry.route(for: id)
            #expect(route.baseURL == ProviderBaseURLs.production.url(for: route.provider), "\(id)")
        }
        #expect(registry.modelIDs == registry.modelIDs.sorted())
    }

    @Test func lookupStripsAndLowercases() throws {
        let registry = ModelRegistry()
        #expect(try registry.route(for: "  GPT-4.1\n") == registry.route(for: "gpt-4.1"))
        #expect(try registry.route(for: "Claude-Haiku-4-5").apiName == "claude-haiku-4-5-20251001")
        #expect(try registry.route(for: "\u{00A0}grok-4.1-fast\t").apiName == "grok-4-1-fast")
    }

    @Test func upstreamTableDetails() throws {
        let registry = ModelRegistry()
        #expect(try registry.route(for: "o4-mini").forceTemperature == 1.0)
        #expect(try registry.route(for: "gemini-2.5-pro").thinkingBudget == 128)
        #expect(try registry.route(for: "gemini-2.5-flash").thinkingBudget == 0)
        #expect(try registry.route(for: "gemini-3-flash-preview").thinkingBudget == nil)
        #expect(try registry.route(for: "grok-3").apiName == "grok-3-latest")
        let gpt = try registry.route(for: "gpt-4.1")
        #expect(gpt.inputPricePerToken == 0.000002 && gpt.outputPricePerToken == 0.000008)
        #expect(try registry.route(for: "seed-1.6").provider == .byteDance)
        #expect(try registry.route(for: "seed-1.6").keyName == "bytedance_api_key")
    }

    @Test func unknownModelListsSupportedModels() {
        let registry = ModelRegistry()
        #expect(throws: UnknownModelError.self) { try registry.route(for: "gpt-4") }
        #expect(throws: UnknownModelError.self) { try registry.route(for: "gpt-4.1-mini") }  // no prefix matching
        do {
            _ = try registry.route(for: "claude-3.7-sonnet")
            Issue.record("unknown model resolved")
        } catch {
            #expect(error.description.hasPrefix("Unsupported model: 'claude-3.7-sonnet'. Supported models: "))
            #expect(error.description.contains("gpt-4.1, gpt-4.1-2025-04-14"))
            #expect(error.supported == registry.modelIDs)
        }
    }

    @Test func configuredModelsRouteToTheirServerAndCannotShadowBuiltIns() throws {
        let registry = ModelRegistry(configured: [
            ConfiguredModel(id: "My-Llama", apiName: "llama-3.1", providerName: "vllm", baseURL: "http://10.0.0.2:8000/v1//", keyName: nil),
            ConfiguredModel(id: "gpt-4.1", apiName: "evil", providerName: "evil", baseURL: "http://evil", keyName: nil),
        ])
        let route = try registry.route(for: "my-llama")
        #expect(route.provider == .openAICompatible(name: "vllm"))
        #expect(route.baseURL == "http://10.0.0.2:8000/v1")
        #expect(route.keyName == nil)
        #expect(try registry.route(for: "gpt-4.1").provider == .openAI)
    }

    @Test func egressProxyParsing() {
        #expect(EgressProxy("127.0.0.1:3128") == EgressProxy(host: "127.0.0.1", port: 3128))
        #expect(EgressProxy("[::1]:8080") == EgressProxy(host: "::1", port: 8080))
        #expect(EgressProxy("[::1]:8080")?.description == "[::1]:8080")
        for bad in ["127.0.0.1", ":3128", "host:0", "host:65536", "host:port", ""] { #expect(EgressProxy(bad) == nil, "\(bad)") }
    }
}

@Suite struct ConfiguredModelListTests {
    @Test func parsesEntriesWithDefaults() throws {
        let models = try ConfiguredModel.list(parsing: Array(#"""
            [{"id": "my-llama", "provider": "vllm", "base_url": "https://llm.internal/v1", "key_name": "vllm_api_key"},
             {"id": "tiny", "provider": "ollama", "base_url": "http://127.0.0.1:11434/v1", "api_name": "tinyllama:1b"}]
            """#.utf8))
        #expect(models == [
            ConfiguredModel(id: "my-llama", apiName: "my-llama", providerName: "vllm", baseURL: "https://llm.internal/v1", keyName: "vllm_api_key"),
            ConfiguredModel(id: "tiny", apiName: "tinyllama:1b", providerName: "ollama", baseURL: "http://127.0.0.1:11434/v1", keyName: nil),
        ])
        let route = try ModelRegistry(configured: models).route(for: "my-llama")
        #expect(route.provider == .openAICompatible(name: "vllm"))
        #expect(route.keyName == "vllm_api_key")
    }

    @Test(arguments: [
        (#"{"id": "x"}"#, "expected a JSON array of models, got object"),
        (#"[{"id": "x", "provider": "p", "base_url": "https://h", "baseurl": "y"}]"#, "entry 0: unknown field 'baseurl'"),
        (#"[{"provider": "p", "base_url": "https://h"}]"#, "entry 0: 'id' is required"),
        (#"[{"id": "x", "provider": "p", "base_url": "ftp://h"}]"#, "'base_url' must start with https:// or http://"),
        (#"[{"id": "", "provider": "p", "base_url": "https://h"}]"#, "'id' must be a non-empty string"),
        (#"[{"id": "x", "provider": "p", "base_url": "https://h"}, 3]"#, "entry 1 must be an object, not integer"),
        ("[", "models file:"),
    ])
    func refusalsNameTheEntryAndField(text: String, message: String) {
        #expect {
            _ = try ConfiguredModel.list(parsing: Array(text.utf8))
        } throws: { error in
            "\(error)".contains(message)
        }
    }
}
