import GatewayCore

/// The one rule for an OpenAI-dialect request body on its way to a provider: every top-level
/// field is forwarded (as is, or translated into the provider's spelling) or refused with a 400
/// that names it. Nothing is accepted and then dropped.
///
/// The table is enforced once, in ``ProviderRouter/complete(_:route:apiKey:)``, before any
/// translator runs; translators only implement the translations it promises. docs/inference-api.md
/// prints the same table, and a test walks it field by field against a recording upstream.
public enum ChatFieldPolicy {
    public enum Disposition: Sendable, Equatable {
        /// Sent upstream under the same name and value.
        case forward
        /// Sent upstream in the provider's spelling (the string says how).
        case translate(String)
        /// Handled by the gateway itself (the model id mapping, the upstream stream framing).
        case gateway(String)
        /// A 400 naming the field, with this reason.
        case refuse(String)
    }

    /// Which dialect a route's provider speaks, for this table.
    public enum Target: Sendable {
        case openAICompatible
        case anthropic
        case gemini
        case local

        init(_ provider: ProviderKind) {
            switch provider {
            case .openAI, .xAI, .byteDance, .openAICompatible: self = .openAICompatible
            case .anthropic: self = .anthropic
            case .google: self = .gemini
            case .local: self = .local
            }
        }
    }

    /// Fields the gateway consumes for every target.
    static let gatewayFields: [String: Disposition] = [
        "model": .gateway("mapped to the provider's model id"),
        "stream": .gateway("the upstream call always streams; the client's choice decides the response shape"),
        "stream_options": .gateway("include_usage decides where usage appears in the client's stream"),
        "n": .gateway("must be 1 (checked by the API layer): one answer per request is what gets signed"),
        "messages": .translate("the provider's conversation format"),
    ]

    /// The disposition of `field` for `target`; unknown fields included.
    public static func disposition(_ field: String, for target: Target) -> Disposition {
        if let fixed = gatewayFields[field] { return fixed }
        switch target {
        case .openAICompatible:
            switch field {
            case "max_tokens", "max_completion_tokens":
                return .translate("max_completion_tokens for OpenAI, max_tokens for other OpenAI-compatible servers")
            case "audio": return .refuse("audio output is not relayed or signed (text only)")
            default:
                // The provider's own behaviour decides unknown fields: OpenAI rejects what it
                // does not know with a 400 that names it, compatible servers may accept extras.
                // `modalities` is forwarded when it asks for text only (checked in `check`).
                return .forward
            }
        case .anthropic: return anthropic[field] ?? .refuse("Anthropic's Messages API has no such parameter")
        case .gemini: return gemini[field] ?? .refuse("Gemini's generateContent API has no such parameter")
        case .local: return local[field] ?? .refuse("the built-in local model does not implement it")
        }
    }

    static let anthropic: [String: Disposition] = [
        "temperature": .translate("temperature, clamped to Anthropic's 0...1; with top_p only for models before Claude 4.5"),
        "top_p": .forward,
        "max_tokens": .translate("max_tokens (Anthropic requires it: 4096 when absent)"),
        "max_completion_tokens": .translate("max_tokens"),
        "stop": .translate("stop_sequences"),
        "tools": .translate("tools with input_schema"),
        "tool_choice": .translate("auto/none/required/{function} → auto/none/any/tool"),
        "parallel_tool_calls": .translate("false → tool_choice.disable_parallel_tool_use"),
        "response_format": .translate("json_schema → one forced tool; json_object refused"),
        "reasoning_effort": .translate("thinking with a budget (table in docs/inference-api.md)"),
        "user": .translate("metadata.user_id"),
        "safety_identifier": .translate("metadata.user_id"),
        "service_tier": .translate("auto → auto, default → standard_only; other tiers refused"),
        "seed": .refuse("Anthropic has no seed parameter"),
        "presence_penalty": .refuse("Anthropic has no presence penalty"),
        "frequency_penalty": .refuse("Anthropic has no frequency penalty"),
        "logit_bias": .refuse("Anthropic has no logit bias"),
        "logprobs": .refuse("Anthropic does not return log probabilities"),
        "top_logprobs": .refuse("Anthropic does not return log probabilities"),
        "metadata": .refuse("Anthropic's metadata takes only user_id; send 'user' instead"),
        "store": .refuse("Anthropic does not store completions"),
        "prediction": .refuse("Anthropic has no predicted outputs"),
        "modalities": .refuse("Claude answers in text only"),
        "audio": .refuse("Claude has no audio output"),
        "web_search_options": .refuse("use /v1/messages with Anthropic's web_search server tool instead"),
        "verbosity": .refuse("Anthropic has no verbosity parameter"),
    ]

    static let gemini: [String: Disposition] = [
        "temperature": .translate("generationConfig.temperature"),
        "top_p": .translate("generationConfig.topP"),
        "max_tokens": .translate("generationConfig.maxOutputTokens"),
        "max_completion_tokens": .translate("generationConfig.maxOutputTokens"),
        "stop": .translate("generationConfig.stopSequences"),
        "seed": .translate("generationConfig.seed"),
        "presence_penalty": .translate("generationConfig.presencePenalty"),
        "frequency_penalty": .translate("generationConfig.frequencyPenalty"),
        "response_format": .translate("generationConfig.responseMimeType (+ responseJsonSchema)"),
        "tools": .translate("tools[].functionDeclarations"),
        "tool_choice": .translate("toolConfig.functionCallingConfig"),
        "parallel_tool_calls": .translate("true is Gemini's behaviour; false is refused (no switch)"),
        "reasoning_effort": .translate("generationConfig.thinkingConfig (thinkingLevel for Gemini 3, thinkingBudget for 2.5)"),
        "user": .refuse("Gemini has no end-user identifier"),
        "safety_identifier": .refuse("Gemini has no end-user identifier"),
        "logit_bias": .refuse("Gemini has no logit bias"),
        "logprobs": .refuse("log probabilities are not translated for Gemini models"),
        "top_logprobs": .refuse("log probabilities are not translated for Gemini models"),
        "metadata": .refuse("Gemini has no request metadata"),
        "store": .refuse("Gemini does not store completions"),
        "service_tier": .refuse("Gemini has no service tier parameter"),
        "prediction": .refuse("Gemini has no predicted outputs"),
        "modalities": .refuse("only text output is translated for Gemini models"),
        "audio": .refuse("only text output is translated for Gemini models"),
        "web_search_options": .refuse("Google Search grounding is not translated"),
        "verbosity": .refuse("Gemini has no verbosity parameter"),
    ]

    /// The deterministic test model: its answer does not depend on sampling, so sampling fields
    /// are accepted as having no effect on a deterministic model (documented, not hidden).
    static let local: [String: Disposition] = [
        "temperature": .gateway("no effect: the local model is deterministic"),
        "top_p": .gateway("no effect: the local model is deterministic"),
        "seed": .gateway("no effect: the local model is deterministic"),
        "max_tokens": .forward, "max_completion_tokens": .forward, "stop": .forward, "tools": .forward,
        "tool_choice": .forward, "parallel_tool_calls": .forward, "response_format": .forward,
        "user": .gateway("no effect: the local model keeps no per-user state"),
    ]

    /// Throws for the first field `target` refuses, in body order, or for a value a translation
    /// cannot carry (checked here so translators never drop anything).
    public static func check(_ request: JSONObject, route: ModelRoute) throws(ProviderError) {
        let target = Target(route.provider)
        for (field, value) in request where !value.isNull {
            if case .refuse(let reason) = disposition(field, for: target) {
                throw .unsupportedField(field: field, reason: "'\(field)' is not supported for \(route.provider.name) models: \(reason)")
            }
        }
        switch target {
        case .anthropic:
            if let tier = request["service_tier"]?.stringValue, !["auto", "default"].contains(tier) {
                throw .unsupportedField(
                    field: "service_tier", reason: "'service_tier' '\(tier)' has no Anthropic equivalent (auto and default do)")
            }
            if AnthropicRequestTranslator.oneSamplingParameter(route.apiName), request["temperature"].isPresent, request["top_p"].isPresent {
                throw .unsupportedField(
                    field: "top_p",
                    reason: "'\(route.apiName)' accepts temperature or top_p, not both (Anthropic, Claude 4.5 and later); send one")
            }
        case .gemini:
            if request["parallel_tool_calls"]?.boolValue == false {
                throw .unsupportedField(
                    field: "parallel_tool_calls", reason: "'parallel_tool_calls': false has no Gemini equivalent")
            }
            if let effort = request["reasoning_effort"]?.stringValue, GeminiRequestTranslator.thinkingConfig(effort, route: route) == nil {
                throw .unsupportedField(
                    field: "reasoning_effort", reason: "'reasoning_effort' '\(effort)' is not available for \(route.apiName)")
            }
        case .openAICompatible:
            // Audio output would arrive as deltas the gateway neither relays nor signs: refuse it
            // rather than answer with the text part alone.
            if request["audio"].isPresent {
                throw .unsupportedField(field: "audio", reason: "'audio' output is not supported: the gateway returns and signs text")
            }
            if let modalities = request["modalities"]?.arrayValue, modalities.contains(where: { $0 != "text" }) {
                throw .unsupportedField(
                    field: "modalities", reason: "'modalities' other than [\"text\"] are not supported: the gateway returns and signs text")
            }
        case .local:
            break
        }
    }
}

extension Optional where Wrapped == JSONValue {
    /// Present and not `null`.
    var isPresent: Bool { self.map { !$0.isNull } ?? false }
}
