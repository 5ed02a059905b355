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
/// - `temperature` is clamped to Anthropic's 0...1 (OpenAI allows up to 2); `max_tokens`, which
///   Anthropic requires, defaults to 4096; `seed` and `reasoning_effort` have no Anthropic
///   equivalent and are not sent;
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
        body["max_tokens"] = .number(JSONNumber(ChatContent.maxTokens(request) ?? defaultMaxTokens))
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
            throw .unsupported(reason: "response_format type 'json_object' is not supported for Anthropic models; use 'json_schema' with a schema")
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
