import GatewayCore

/// Translates an OpenAI chat request into a Gemini `generateContent` request.
///
/// - system and developer messages → `systemInstruction`; user → role `user`, assistant → role
///   `model`; consecutive same-role turns are merged;
/// - images only as `data:` URLs (→ `inlineData`): Gemini's `fileData` needs uploaded files;
/// - assistant `tool_calls` → `functionCall` parts with parsed `args`; a `tool` message →
///   `functionResponse` named after the earlier assistant call with that `tool_call_id`; its
///   `response` is the content when that is a JSON object, else `{"content": <text>}` (Gemini
///   requires an object);
/// - tools → `functionDeclarations` with `parametersJsonSchema` (full JSON Schema, unlike the
///   OpenAPI-subset `parameters`); `tool_choice` auto/none/required/{function} →
///   `functionCallingConfig` AUTO/NONE/ANY/ANY + `allowedFunctionNames`;
///   `parallel_tool_calls: true` is Gemini's behaviour (false is refused by ``ChatFieldPolicy``);
/// - a tool-call id the gateway minted from a Gemini answer carries that call's
///   `thoughtSignature` (``GeminiThoughtSignature``); it is restored on the replayed
///   `functionCall` part, as Gemini 3 requires for multi-turn tool use;
/// - `generationConfig`: temperature (or the route's forced value), topP, maxOutputTokens,
///   stopSequences, seed, presencePenalty, frequencyPenalty, `responseMimeType: application/json`
///   for json_object/json_schema plus `responseJsonSchema` for json_schema, and `thinkingConfig`:
///   from `reasoning_effort` when sent (``thinkingConfig(_:route:)``), else the registry's
///   `thinkingBudget` (thoughts are never included in the answer).
enum GeminiRequestTranslator {
    static func translate(_ request: JSONObject, route: ModelRoute) throws(ProviderError) -> JSONObject {
        try ChatContent.requireSingleChoice(request)
        var body = JSONObject()
        let messages = request["messages"]?.arrayValue ?? []
        body["contents"] = .array(try contents(messages))
        let system = ChatContent.systemText(messages)
        if !system.isEmpty { body["systemInstruction"] = ["parts": [["text": .string(system)]]] }
        if let tools = request["tools"]?.arrayValue, !tools.isEmpty {
            body["tools"] = [["functionDeclarations": .array(tools.map(declaration))]]
            body["toolConfig"] = ["functionCallingConfig": .object(callingConfig(request["tool_choice"]))]
        }
        body["generationConfig"] = .object(generationConfig(request, route: route))
        return body
    }

    private static func generationConfig(_ request: JSONObject, route: ModelRoute) -> JSONObject {
        var config = JSONObject()
        if let forced = route.forceTemperature {
            config["temperature"] = .number(JSONNumber(forced))
        } else if let temperature = request["temperature"], !temperature.isNull {
            config["temperature"] = temperature
        }
        if let topP = request["top_p"], !topP.isNull { config["topP"] = topP }
        if let limit = ChatContent.maxTokens(request) { config["maxOutputTokens"] = .number(JSONNumber(limit)) }
        let stops = ChatContent.stopSequences(request)
        if !stops.isEmpty { config["stopSequences"] = .array(stops.map(JSONValue.string)) }
        if let seed = request["seed"], !seed.isNull { config["seed"] = seed }
        if let penalty = request["presence_penalty"], !penalty.isNull { config["presencePenalty"] = penalty }
        if let penalty = request["frequency_penalty"], !penalty.isNull { config["frequencyPenalty"] = penalty }
        switch request["response_format"]?["type"]?.stringValue {
        case "json_object":
            config["responseMimeType"] = "application/json"
        case "json_schema":
            config["responseMimeType"] = "application/json"
            if let schema = request["response_format"]?["json_schema"]?["schema"] { config["responseJsonSchema"] = schema }
        default:
            break
        }
        if let effort = request["reasoning_effort"]?.stringValue, let thinking = thinkingConfig(effort, route: route) {
            config["thinkingConfig"] = .object(thinking)
        } else if let budget = route.thinkingBudget {
            config["thinkingConfig"] = ["thinkingBudget": .number(JSONNumber(budget))]
        }
        return config
    }

    /// `reasoning_effort` in Gemini's terms, or nil when the model cannot honour it. Gemini 3 takes
    /// `thinkingLevel` (low/high; Flash also minimal/medium) and cannot turn thinking off; Gemini
    /// 2.5 takes `thinkingBudget` (none 0, minimal 512, low 1024, medium 8192, high 24576 — the
    /// budgets of Google's OpenAI compatibility layer), and 2.5 Pro cannot go below 128 or turn it off.
    static func thinkingConfig(_ effort: String, route: ModelRoute) -> JSONObject? {
        if route.apiName.hasPrefix("gemini-3") {
            let flash = route.apiName.contains("flash")
            let levels = flash ? ["minimal", "low", "medium", "high"] : ["low", "high"]
            // The enum's proto names, as google-genai sends them (`ThinkingLevel.HIGH` → "HIGH").
            return levels.contains(effort) ? JSONObject([("thinkingLevel", .string(effort.uppercased()))]) : nil
        }
        let budgets = ["none": 0, "minimal": 512, "low": 1024, "medium": 8192, "high": 24576]
        guard let budget = budgets[effort] else { return nil }
        if route.apiName.contains("pro"), budget < 128 { return nil }
        return JSONObject([("thinkingBudget", .number(JSONNumber(budget)))])
    }

    private static func declaration(_ tool: JSONValue) -> JSONValue {
        let function = tool["function"]
        var out = JSONObject([("name", function?["name"] ?? "")])
        if let description = function?["description"], !description.isNull { out["description"] = description }
        if let parameters = function?["parameters"], !parameters.isNull { out["parametersJsonSchema"] = parameters }
        return .object(out)
    }

    private static func callingConfig(_ choice: JSONValue?) -> JSONObject {
        switch choice {
        case .string("none"): JSONObject([("mode", "NONE")])
        case .string("required"): JSONObject([("mode", "ANY")])
        case .object(let object):
            object["function"]?["name"].map { JSONObject([("mode", "ANY"), ("allowedFunctionNames", [$0])]) } ?? JSONObject([("mode", "AUTO")])
        default: JSONObject([("mode", "AUTO")])
        }
    }

    private static func contents(_ messages: [JSONValue]) throws(ProviderError) -> [JSONValue] {
        var callNames: [String: String] = [:]
        var turns: [(role: String, parts: [JSONValue])] = []
        for message in messages {
            let role: String
            var parts: [JSONValue] = []
            switch message["role"]?.stringValue {
            case "user":
                role = "user"
                parts = try userParts(message["content"])
            case "assistant":
                role = "model"
                let text = ChatContent.text(message["content"])
                if !text.isEmpty { parts.append(["text": .string(text)]) }
                for call in message["tool_calls"]?.arrayValue ?? [] {
                    let id = call["id"]?.stringValue ?? ""
                    let name = call["function"]?["name"]?.stringValue ?? ""
                    callNames[id] = name
                    let args = try ChatContent.arguments(call["function"]?["arguments"]?.stringValue, callID: id)
                    var part = JSONObject([("functionCall", ["name": .string(name), "args": args])])
                    if let signature = GeminiThoughtSignature.split(id).signature { part["thoughtSignature"] = .string(signature) }
                    parts.append(.object(part))
                }
            case "tool":
                role = "user"
                let id = message["tool_call_id"]?.stringValue ?? ""
                guard let name = callNames[id] else {
                    throw .unsupported(reason: "tool message with tool_call_id '\(id)' answers no earlier assistant tool call")
                }
                let text = ChatContent.text(message["content"])
                let response: JSONValue = (try? JSONParser().parse(text)).flatMap { $0.objectValue != nil ? $0 : nil } ?? ["content": .string(text)]
                parts.append(["functionResponse": ["name": .string(name), "response": response]])
            default:
                continue
            }
            guard !parts.isEmpty else { continue }
            if turns.last?.role == role {
                turns[turns.count - 1].parts += parts
            } else {
                turns.append((role, parts))
            }
        }
        return turns.map { ["role": .string($0.role), "parts": .array($0.parts)] }
    }

    private static func userParts(_ content: JSONValue?) throws(ProviderError) -> [JSONValue] {
        guard case .array(let items) = content else {
            let text = ChatContent.text(content)
            return text.isEmpty ? [] : [["text": .string(text)]]
        }
        var parts: [JSONValue] = []
        for item in items {
            switch item["type"]?.stringValue {
            case "text":
                parts.append(["text": item["text"] ?? ""])
            case "image_url":
                let url = item["image_url"]?["url"]?.stringValue ?? item["image_url"]?.stringValue ?? ""
                guard let data = DataURL(url) else {
                    throw .unsupported(reason: "Gemini models accept images only as data: URLs (base64), not remote URLs")
                }
                parts.append(["inlineData": ["mimeType": .string(data.mediaType), "data": .string(data.base64)]])
            case "file":
                guard let data = item["file"]?["file_data"]?.stringValue.flatMap(DataURL.init) else {
                    throw .unsupported(reason: "file parts must carry their bytes as a data: URL in file.file_data for Gemini models")
                }
                parts.append(["inlineData": ["mimeType": .string(data.mediaType), "data": .string(data.base64)]])
            case let other:
                throw .unsupported(reason: "content part type '\(other ?? "?")' is not supported for Gemini models")
            }
        }
        return parts
    }
}
