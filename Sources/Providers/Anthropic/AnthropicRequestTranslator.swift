import GatewayCore

/// Translates an OpenAI chat request into an Anthropic Messages request.
///
/// - system and developer messages are hoisted into `system` (joined with a blank line);
/// - user content becomes blocks: text, images (`data:` URLs → base64 source, other URLs → url
///   source) and PDF files (`file.file_data` data URLs → document blocks);
/// - assistant `tool_calls` become `tool_use` blocks with parsed `input`; `tool` messages become
///   `tool_result` blocks in the user turn that follows; consecutive same-role turns are merged
///   (Anthropic requires alternation);
/// - `tool_choice` auto/none/required/{function} → auto/none/any/tool, and
///   `parallel_tool_calls: false` → `disable_parallel_tool_use`;
/// - `temperature` is clamped to Anthropic's 0...1 (OpenAI allows up to 2) and sent only when the
///   client sent it (no invented defaults); Claude 4.5 and later take `temperature` or `top_p`,
///   not both (``ChatFieldPolicy`` refuses the pair); `max_tokens`, which Anthropic requires,
///   defaults to 4096;
/// - `user` (or `safety_identifier`, which wins) → `metadata.user_id`; `service_tier` auto →
///   auto, default → standard_only;
/// - `reasoning_effort` → `thinking` by ``thinkingBudgets`` (`none` → disabled); the budget must
///   stay below `max_tokens` (absent `max_tokens` becomes budget + 4096), and thinking excludes a
///   forced tool choice, structured output and a temperature other than 1 (each refused by name);
///   thinking blocks in the answer are hidden reasoning and not shown, as for OpenAI models;
/// - fields Anthropic has no spelling for are refused before this runs (``ChatFieldPolicy``);
/// - `response_format: json_schema` becomes a single forced tool whose input schema is the
///   requested schema; the decoder streams that tool's input as the answer TEXT (so the client
///   sees a JSON message, as from OpenAI) and any client tools are not offered. `json_object` has
///   no faithful Anthropic equivalent and is refused with a message naming `json_schema`.
enum AnthropicRequestTranslator {
    static let defaultMaxTokens = 4096
    static let structuredToolName = "json_response"

    struct Translation {
        var body: JSONObject
        /// Set when `response_format: json_schema` was translated into a forced tool.
        var structuredOutputTool: String?
    }

    static func translate(_ request: JSONObject, route: ModelRoute) throws(ProviderError) -> Translation {
        try ChatContent.requireSingleChoice(request)
        var body = JSONObject()
        body["model"] = .string(route.apiName)
        let thinking = try Self.thinking(request)
        let budget = thinking?["budget_tokens"]?.numberValue?.intValue ?? 0
        let maxTokens = ChatContent.maxTokens(request) ?? (budget > 0 ? budget + defaultMaxTokens : defaultMaxTokens)
        if budget > 0, maxTokens <= budget {
            throw .unsupportedField(
                field: "reasoning_effort",
                reason: "'reasoning_effort' asks for a \(budget)-token thinking budget, which must be below max_tokens (\(maxTokens))")
        }
        body["max_tokens"] = .number(JSONNumber(maxTokens))
        if let thinking { body["thinking"] = .object(thinking) }
        let messages = request["messages"]?.arrayValue ?? []
        let system = ChatContent.systemText(messages)
        if !system.isEmpty { body["system"] = .string(system) }
        body["messages"] = .array(try turns(messages))
        if let temperature = route.forceTemperature ?? request["temperature"]?.numberValue?.doubleValue {
            body["temperature"] = .number(JSONNumber(min(max(temperature, 0), 1)))
        }
        if let topP = request["top_p"], !topP.isNull { body["top_p"] = topP }
        let stops = ChatContent.stopSequences(request)
        if !stops.isEmpty { body["stop_sequences"] = .array(stops.map(JSONValue.string)) }
        if let user = (request["safety_identifier"] ?? request["user"])?.stringValue {
            body["metadata"] = ["user_id": .string(user)]
        }
        switch request["service_tier"]?.stringValue {
        case "auto": body["service_tier"] = "auto"
        case "default": body["service_tier"] = "standard_only"
        default: break
        }
        if budget > 0 {
            if let temperature = body["temperature"]?.numberValue?.doubleValue, temperature != 1 {
                throw .unsupportedField(field: "temperature", reason: "Anthropic thinking (from 'reasoning_effort') requires temperature 1 or none")
            }
            if request["response_format"]?["type"]?.stringValue == "json_schema" {
                throw .unsupportedField(
                    field: "reasoning_effort",
                    reason: "Anthropic thinking (from 'reasoning_effort') cannot be combined with json_schema output, which forces a tool")
            }
            if case .object = request["tool_choice"] {
                throw .unsupportedField(field: "tool_choice", reason: "Anthropic thinking (from 'reasoning_effort') allows only tool_choice auto or none")
            }
            if request["tool_choice"]?.stringValue == "required" {
                throw .unsupportedField(field: "tool_choice", reason: "Anthropic thinking (from 'reasoning_effort') allows only tool_choice auto or none")
            }
        }

        var structuredTool: String?
        switch request["response_format"]?["type"]?.stringValue {
        case "json_schema":
            let format = request["response_format"]?["json_schema"]
            let name = format?["name"]?.stringValue ?? structuredToolName
            let schema = format?["schema"] ?? ["type": "object"]
            body["tools"] = [["name": .string(name), "description": "Respond with your answer as this tool's input.", "input_schema": schema]]
            body["tool_choice"] = ["type": "tool", "name": .string(name)]
            structuredTool = name
        case "json_object":
            throw .unsupportedField(field: "response_format", reason: "'response_format' type 'json_object' is not supported for Anthropic models; use 'json_schema' with a schema")
        default:
            if let tools = request["tools"]?.arrayValue, !tools.isEmpty {
                body["tools"] = .array(tools.map(tool))
                var choice = toolChoice(request["tool_choice"])
                if request["parallel_tool_calls"]?.boolValue == false, choice["type"]?.stringValue != "none" {
                    choice["disable_parallel_tool_use"] = true
                }
                body["tool_choice"] = .object(choice)
            }
        }
        body["stream"] = true
        return Translation(body: body, structuredOutputTool: structuredTool)
    }

    /// `reasoning_effort` → Anthropic `budget_tokens` (1024 is Anthropic's minimum).
    public static let thinkingBudgets: [(effort: String, budget: Int)] = [
        ("minimal", 1024), ("low", 2048), ("medium", 8192), ("high", 16384), ("xhigh", 32768),
    ]

    static func thinking(_ request: JSONObject) throws(ProviderError) -> JSONObject? {
        guard let effort = request["reasoning_effort"]?.stringValue else { return nil }
        if effort == "none" { return JSONObject([("type", "disabled")]) }
        guard let budget = thinkingBudgets.first(where: { $0.effort == effort })?.budget else {
            throw .unsupportedField(field: "reasoning_effort", reason: "'reasoning_effort' '\(effort)' has no Anthropic thinking budget")
        }
        return JSONObject([("type", "enabled"), ("budget_tokens", .number(JSONNumber(budget)))])
    }

    /// Claude 4.5 and later reject `temperature` and `top_p` together (Anthropic, "Migrating to
    /// Claude 4.5"). Model ids are `claude-<family>-<major>-<minor>[-date]`.
    public static func oneSamplingParameter(_ apiName: String) -> Bool {
        // `claude-<family>-<major>-<minor>[-date]` since Claude 4, `claude-<major>-<minor>-<family>` before.
        let parts = apiName.split(separator: "-")
        guard parts.first == "claude", let first = parts.firstIndex(where: { $0.count <= 2 && Int($0) != nil }),
            let major = Int(parts[first])
        else { return false }
        let next = parts.index(after: first)
        let minor = next < parts.endIndex && parts[next].count <= 2 ? Int(parts[next]) ?? 0 : 0
        return major > 4 || (major == 4 && minor >= 5)
    }

    private static func tool(_ tool: JSONValue) -> JSONValue {
        let function = tool["function"]
        var out = JSONObject([("name", function?["name"] ?? "")])
        if let description = function?["description"], !description.isNull { out["description"] = description }
        out["input_schema"] = function?["parameters"] ?? ["type": "object", "properties": [:]]
        return .object(out)
    }

    private static func toolChoice(_ choice: JSONValue?) -> JSONObject {
        switch choice {
        case .string("none"): JSONObject([("type", "none")])
        case .string("required"): JSONObject([("type", "any")])
        case .object(let object):
            object["function"]?["name"].map { JSONObject([("type", "tool"), ("name", $0)]) } ?? JSONObject([("type", "auto")])
        default: JSONObject([("type", "auto")])
        }
    }

    private static func turns(_ messages: [JSONValue]) throws(ProviderError) -> [JSONValue] {
        var turns: [(role: String, blocks: [JSONValue])] = []
        for message in messages {
            let role: String
            let blocks: [JSONValue]
            switch message["role"]?.stringValue {
            case "user":
                role = "user"
                blocks = try userBlocks(message["content"])
            case "assistant":
                role = "assistant"
                blocks = try assistantBlocks(message)
            case "tool":
                role = "user"
                blocks = [toolResult(message)]
            default:
                continue
            }
            guard !blocks.isEmpty else { continue }
            if turns.last?.role == role {
                turns[turns.count - 1].blocks += blocks
            } else {
                turns.append((role, blocks))
            }
        }
        return turns.map { ["role": .string($0.role), "content": .array($0.blocks)] }
    }

    private static func userBlocks(_ content: JSONValue?) throws(ProviderError) -> [JSONValue] {
        guard case .array(let parts) = content else {
            let text = ChatContent.text(content)
            return text.isEmpty ? [] : [["type": "text", "text": .string(text)]]
        }
        var blocks: [JSONValue] = []
        for part in parts {
            switch part["type"]?.stringValue {
            case "text":
                blocks.append(["type": "text", "text": part["text"] ?? ""])
            case "image_url":
                let url = part["image_url"]?["url"]?.stringValue ?? part["image_url"]?.stringValue ?? ""
                if let data = DataURL(url) {
                    blocks.append(["type": "image", "source": ["type": "base64", "media_type": .string(data.mediaType), "data": .string(data.base64)]])
                } else if url.hasPrefix("https://") || url.hasPrefix("http://") {
                    blocks.append(["type": "image", "source": ["type": "url", "url": .string(url)]])
                } else {
                    throw .unsupported(reason: "image_url must be a data: URL or an http(s) URL for Anthropic models")
                }
            case "file":
                guard let data = part["file"]?["file_data"]?.stringValue.flatMap(DataURL.init), data.mediaType == "application/pdf" else {
                    throw .unsupported(reason: "file parts must carry a PDF as a data: URL in file.file_data for Anthropic models")
                }
                blocks.append(["type": "document", "source": ["type": "base64", "media_type": "application/pdf", "data": .string(data.base64)]])
            case let other:
                throw .unsupported(reason: "content part type '\(other ?? "?")' is not supported for Anthropic models")
            }
        }
        return blocks
    }

    private static func assistantBlocks(_ message: JSONValue) throws(ProviderError) -> [JSONValue] {
        var blocks: [JSONValue] = []
        let text = ChatContent.text(message["content"])
        if !text.isEmpty { blocks.append(["type": "text", "text": .string(text)]) }
        for call in message["tool_calls"]?.arrayValue ?? [] {
            let id = call["id"]?.stringValue ?? ""
            let input = try ChatContent.arguments(call["function"]?["arguments"]?.stringValue, callID: id)
            blocks.append(["type": "tool_use", "id": .string(id), "name": call["function"]?["name"] ?? "", "input": input])
        }
        return blocks
    }

    private static func toolResult(_ message: JSONValue) -> JSONValue {
        ["type": "tool_result", "tool_use_id": message["tool_call_id"] ?? "", "content": .string(ChatContent.text(message["content"]))]
    }
}
