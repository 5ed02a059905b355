import GatewayCore

/// Anthropic's rules for `system` and `messages`.
///
/// Roles are `user` and `assistant`; consecutive turns of one role are allowed (Anthropic merges
/// them). Tool use is strict, as Anthropic enforces it: every `tool_use` of an assistant message
/// is answered by a `tool_result` in the next message, which must be a user message whose
/// `tool_result` blocks come before any other block, and a `tool_result` must answer a `tool_use`
/// of the message right before it. A final assistant message is a prefill and may leave nothing open.
enum AnthropicContentRules {
    static let imageTypes = ["image/jpeg", "image/png", "image/gif", "image/webp"]

    static func checkSystem(_ fields: RequestFields) throws(InvalidRequest) {
        guard let system = fields["system"] else { return }
        switch system {
        case .string: return
        case .array(let blocks):
            for (i, value) in blocks.enumerated() {
                let block = try RequestFields(value, path: "system[\(i)]")
                _ = try block.requiredString("type")
                _ = try block.choice("type", ["text"])
                _ = try block.requiredString("text")
            }
        default: throw RequestFields.typeError("system", expected: "a string or an array of text blocks", got: system)
        }
    }

    static func checkMessages(_ value: JSONValue) throws(InvalidRequest) {
        guard case .array(let messages) = value else {
            throw RequestFields.typeError("messages", expected: "an array", got: value)
        }
        guard !messages.isEmpty else {
            throw InvalidRequest("'messages' must contain at least one message", param: "messages")
        }
        var openCalls = [String]()
        var callsFrom: Int?
        for (i, value) in messages.enumerated() {
            let message = try RequestFields(value, path: "messages[\(i)]")
            let role = try message.requiredString("role")
            let blocks = try contentBlocks(message)
            let isPrefill = role == "assistant" && i == messages.count - 1
            if !isPrefill, message["content"] == "" || message["content"] == [] {
                throw InvalidRequest(
                    "all messages must have non-empty content except for the optional final assistant message",
                    param: message.param("content"))
            }
            switch role {
            case "user":
                var answered = [String]()
                var seenOther = false
                for block in blocks {
                    if block.type == "tool_result" {
                        guard !seenOther else {
                            throw InvalidRequest(
                                "tool_result blocks must come before any other content in a user message",
                                param: block.fields.path)
                        }
                        let id = try checkToolResult(block.fields)
                        guard openCalls.contains(id) else {
                            throw InvalidRequest(
                                "unexpected tool_use_id '\(id)' in tool_result: each tool_result must answer a tool_use of the previous message",
                                param: block.fields.param("tool_use_id"))
                        }
                        answered.append(id)
                    } else {
                        seenOther = true
                        try checkUserBlock(block)
                    }
                }
                try requireAnswered(openCalls.filter { !answered.contains($0) }, from: callsFrom)
                openCalls = []
            case "assistant":
                try requireAnswered(openCalls, from: callsFrom)
                openCalls = []
                for block in blocks {
                    if let id = try checkAssistantBlock(block) { openCalls.append(id) }
                }
                callsFrom = i
            default:
                throw InvalidRequest(
                    "Invalid value for '\(message.param("role"))': '\(role)'; expected 'user' or 'assistant' (a system prompt goes in the top-level 'system')",
                    param: message.param("role"))
            }
        }
        // Calls still open here belong to a trailing assistant message: a prefill, answered later.
    }

    struct Block {
        let fields: RequestFields
        let type: String
    }

    /// A string content is one text block; an array is checked block by block by the callers.
    static func contentBlocks(_ message: RequestFields) throws(InvalidRequest) -> [Block] {
        let content = try message.required("content")
        switch content {
        case .string: return []
        case .array(let values):
            var blocks = [Block]()
            for (i, value) in values.enumerated() {
                let fields = try RequestFields(value, path: message.param("content[\(i)]"))
                blocks.append(Block(fields: fields, type: try fields.requiredString("type")))
            }
            return blocks
        default:
            throw RequestFields.typeError(
                message.param("content"), expected: "a string or an array of content blocks", got: content)
        }
    }

    static func checkUserBlock(_ block: Block) throws(InvalidRequest) {
        let fields = block.fields
        switch block.type {
        case "text": _ = try fields.requiredString("text")
        case "image": try checkSource(fields, kinds: ["base64", "url"], mediaTypes: imageTypes)
        case "document":
            try checkSource(fields, kinds: ["base64", "text", "url"], mediaTypes: ["application/pdf", "text/plain"])
            _ = try fields.string("title")
        default: throw unsupported(block, allowed: ["text", "image", "document", "tool_result"])
        }
    }

    /// Returns the `tool_use_id`.
    static func checkToolResult(_ fields: RequestFields) throws(InvalidRequest) -> String {
        let id = try fields.requiredString("tool_use_id")
        _ = try fields.bool("is_error")
        switch fields["content"] {
        case nil, .string?: break
        case .array(let values)?:
            for (i, value) in values.enumerated() {
                let part = try RequestFields(value, path: fields.param("content[\(i)]"))
                let block = Block(fields: part, type: try part.requiredString("type"))
                switch block.type {
                case "text": _ = try part.requiredString("text")
                case "image": try checkSource(part, kinds: ["base64", "url"], mediaTypes: imageTypes)
                default: throw unsupported(block, allowed: ["text", "image"])
                }
            }
        case let other?:
            throw RequestFields.typeError(
                fields.param("content"), expected: "a string or an array of blocks", got: other)
        }
        return id
    }

    /// Returns the id of a `tool_use` block, `nil` for the others.
    static func checkAssistantBlock(_ block: Block) throws(InvalidRequest) -> String? {
        let fields = block.fields
        switch block.type {
        case "text": _ = try fields.requiredString("text")
        case "tool_use":
            let id = try fields.requiredString("id")
            _ = try fields.requiredString("name")
            guard case .object? = fields["input"] else {
                throw RequestFields.typeError(
                    fields.param("input"), expected: "an object", got: fields["input"] ?? .null)
            }
            return id
        case "thinking":
            _ = try fields.requiredString("thinking")
            _ = try fields.string("signature")
        case "redacted_thinking": _ = try fields.requiredString("data")
        default: throw unsupported(block, allowed: ["text", "tool_use", "thinking", "redacted_thinking"])
        }
        return nil
    }

    static func checkSource(_ fields: RequestFields, kinds: [String], mediaTypes: [String]) throws(InvalidRequest) {
        let source = try fields.requiredFields("source")
        _ = try source.requiredString("type")
        switch try source.choice("type", kinds) {
        case "url": _ = try source.requiredString("url")
        default:
            _ = try source.requiredString("media_type")
            _ = try source.choice("media_type", mediaTypes)
            _ = try source.requiredString("data")
        }
    }

    static func requireAnswered(_ ids: [String], from index: Int?) throws(InvalidRequest) {
        guard !ids.isEmpty, let index else { return }
        throw InvalidRequest(
            "tool_use ids were found without tool_result blocks immediately after: \(ids.joined(separator: ", ")); each tool_use needs a tool_result in the next message",
            param: "messages[\(index)].content")
    }

    static func unsupported(_ block: Block, allowed: [String]) -> InvalidRequest {
        InvalidRequest(
            "Invalid value for '\(block.fields.param("type"))': '\(block.type)'; expected one of \(allowed.map { "'\($0)'" }.joined(separator: ", "))",
            param: block.fields.param("type"))
    }
}
