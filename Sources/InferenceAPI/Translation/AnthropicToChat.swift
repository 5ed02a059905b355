import GatewayCore

/// Anthropic Messages → OpenAI chat: the body non-Anthropic providers receive and the form
/// `tee_request_hash` covers for `/v1/messages` (ARCHITECTURE §6.2).
///
/// Choices that are part of the contract (a verifier rebuilds the hash from them):
/// - `system` (string or text blocks joined with `"\n\n"`) becomes one leading system message.
/// - A user turn's `tool_result` blocks become `tool` messages placed right after the assistant
///   turn that made the calls, before the rest of that user turn; `is_error` prefixes `"Error: "`;
///   images inside a result move into the user message that follows (tool messages carry text only).
/// - Images become `image_url` parts (`data:` URLs for base64); PDFs become `file` parts with a
///   `data:` URL; text documents become text parts; a single text part collapses to a string.
/// - Assistant text blocks are concatenated; `tool_use` becomes `tool_calls` with `arguments` =
///   compact JSON of `input`; content is `null` when there are calls and no text. Thinking blocks
///   are dropped (never shown as text).
/// - An absent `temperature` is not sent (no invented defaults); the hash alone counts it as
///   `1.0`, Anthropic's default (``InferenceRequest``), as documented in wire-contracts §3.5.
/// - `stop_sequences` → `stop`; `metadata.user_id` → `user`; `stream` adds
///   `stream_options.include_usage`; `top_k` and `cache_control` are dropped (no OpenAI equivalent).
/// - `tool_choice`: auto → "auto", any → "required", none → "none", tool → named function;
///   `disable_parallel_tool_use` → `parallel_tool_calls: false`.
/// - `thinking.enabled` → `reasoning_effort` by budget: < 4096 "low", < 16384 "medium", else
///   "high"; `adaptive` → "medium"; `disabled` → nothing.
enum AnthropicToChat {
    static func translate(_ request: AnthropicRequest) throws(InvalidRequest) -> JSONObject {
        let body = request.body
        var chat = JSONObject()
        chat["model"] = .string(request.model)
        var messages = [JSONValue]()
        if let system = systemText(body["system"]), !system.isEmpty {
            messages.append(["role": "system", "content": .string(system)])
        }
        for (i, message) in (body["messages"]?.arrayValue ?? []).enumerated() {
            let role = message["role"]?.stringValue ?? ""
            switch message["content"] {
            case .string(let text)?: messages.append(["role": .string(role), "content": .string(text)])
            case .array(let blocks)?:
                if role == "assistant" {
                    messages.append(assistant(blocks))
                } else {
                    messages += try user(blocks, param: "messages[\(i)].content")
                }
            default: continue
            }
        }
        chat["messages"] = .array(messages)
        if let maxTokens = request.maxTokens { chat["max_tokens"] = .number(JSONNumber(maxTokens)) }
        if let temperature = body["temperature"], !temperature.isNull { chat["temperature"] = temperature }
        if let topP = body["top_p"], !topP.isNull { chat["top_p"] = topP }
        if let stops = body["stop_sequences"], stops.isTruthy { chat["stop"] = stops }
        if request.stream {
            chat["stream"] = true
            chat["stream_options"] = ["include_usage": true]
        }
        if let user = body["metadata"]?["user_id"], case .string = user { chat["user"] = user }
        if let tools = body["tools"]?.arrayValue, !tools.isEmpty { chat["tools"] = .array(tools.map(tool)) }
        if let choice = body["tool_choice"] { toolChoice(choice, into: &chat) }
        if let effort = reasoningEffort(body["thinking"]) { chat["reasoning_effort"] = .string(effort) }
        return chat
    }

    static func systemText(_ system: JSONValue?) -> String? {
        switch system {
        case .string(let text)?: text
        case .array(let blocks)?: blocks.compactMap { $0["text"]?.stringValue }.joined(separator: "\n\n")
        default: nil
        }
    }

    static func assistant(_ blocks: [JSONValue]) -> JSONValue {
        var text = ""
        var calls = [JSONValue]()
        for block in blocks {
            switch block["type"]?.stringValue {
            case "text": text += block["text"]?.stringValue ?? ""
            case "tool_use":
                calls.append([
                    "id": block["id"] ?? "", "type": "function",
                    "function": [
                        "name": block["name"] ?? "",
                        "arguments": .string(JSONWriter.string(block["input"] ?? [:], style: .compact)),
                    ],
                ])
            default: continue  // thinking / redacted_thinking: hidden reasoning is never replayed as text
            }
        }
        var message = JSONObject.with([
            "role": "assistant", "content": text.isEmpty && !calls.isEmpty ? .null : .string(text),
        ])
        if !calls.isEmpty { message["tool_calls"] = .array(calls) }
        return .object(message)
    }

    /// Tool messages first (answers to the previous assistant turn), then the user message.
    static func user(_ blocks: [JSONValue], param: String) throws(InvalidRequest) -> [JSONValue] {
        var toolMessages = [JSONValue]()
        var parts = [JSONValue]()
        for (i, block) in blocks.enumerated() {
            switch block["type"]?.stringValue {
            case "tool_result":
                let (message, images) = toolResult(block)
                toolMessages.append(message)
                parts += images
            case "text": parts.append(["type": "text", "text": block["text"] ?? ""])
            case "image": parts.append(image(block["source"]))
            case "document": parts.append(try document(block, param: "\(param)[\(i)]"))
            default: continue
            }
        }
        guard !parts.isEmpty else { return toolMessages }
        let content: JSONValue = parts.count == 1 && parts[0]["type"] == "text" ? parts[0]["text"] ?? "" : .array(parts)
        return toolMessages + [["role": "user", "content": content]]
    }

    static func toolResult(_ block: JSONValue) -> (message: JSONValue, images: [JSONValue]) {
        var texts = [String]()
        var images = [JSONValue]()
        switch block["content"] {
        case .string(let text)?: texts.append(text)
        case .array(let parts)?:
            for part in parts {
                if part["type"] == "image" {
                    images.append(image(part["source"]))
                } else if let text = part["text"]?.stringValue {
                    texts.append(text)
                }
            }
        default: break
        }
        if block["is_error"] == true { texts = texts.isEmpty ? ["Error"] : ["Error: " + texts[0]] + texts.dropFirst() }
        let content: JSONValue =
            texts.count <= 1 ? .string(texts.first ?? "") : .array(texts.map { ["type": "text", "text": .string($0)] })
        return (["role": "tool", "tool_call_id": block["tool_use_id"] ?? "", "content": content], images)
    }

    static func image(_ source: JSONValue?) -> JSONValue {
        let url = source?["type"] == "url" ? source?["url"] ?? "" : .string(dataURL(source))
        return ["type": "image_url", "image_url": ["url": url]]
    }

    static func document(_ block: JSONValue, param: String) throws(InvalidRequest) -> JSONValue {
        let source = block["source"]
        switch source?["type"]?.stringValue {
        case "text": return ["type": "text", "text": source?["data"] ?? ""]
        case "base64":
            let filename = block["title"]?.stringValue ?? "document.pdf"
            return ["type": "file", "file": ["filename": .string(filename), "file_data": .string(dataURL(source))]]
        default:
            throw InvalidRequest(
                "document URL sources cannot be forwarded to this model's provider; send the PDF as base64",
                param: "\(param).source")
        }
    }

    static func dataURL(_ source: JSONValue?) -> String {
        "data:\(source?["media_type"]?.stringValue ?? "");base64,\(source?["data"]?.stringValue ?? "")"
    }

    static func tool(_ tool: JSONValue) -> JSONValue {
        var function = JSONObject.with(["name": tool["name"] ?? ""])
        if let description = tool["description"], !description.isNull { function["description"] = description }
        function["parameters"] = tool["input_schema"] ?? [:]
        return ["type": "function", "function": .object(function)]
    }

    static func toolChoice(_ choice: JSONValue, into chat: inout JSONObject) {
        switch choice["type"]?.stringValue {
        case "auto": chat["tool_choice"] = "auto"
        case "any": chat["tool_choice"] = "required"
        case "none": chat["tool_choice"] = "none"
        case "tool": chat["tool_choice"] = ["type": "function", "function": ["name": choice["name"] ?? ""]]
        default: break
        }
        if choice["disable_parallel_tool_use"] == true { chat["parallel_tool_calls"] = false }
    }

    static func reasoningEffort(_ thinking: JSONValue?) -> String? {
        switch thinking?["type"]?.stringValue {
        case "enabled":
            let budget = thinking?["budget_tokens"]?.numberValue?.intValue ?? 0
            return budget < 4096 ? "low" : budget < 16384 ? "medium" : "high"
        case "adaptive": return "medium"
        default: return nil
        }
    }
}
