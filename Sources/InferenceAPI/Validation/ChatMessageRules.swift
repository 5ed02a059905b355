import GatewayCore

/// OpenAI's rules for `messages`: roles, content shapes per role, and the tool-call protocol
/// (every `tool` message answers a call of the assistant message right before it, and every call
/// is answered before the conversation moves on).
enum ChatMessageRules {
    static let roles = ["system", "developer", "user", "assistant", "tool", "function"]

    static func check(_ value: JSONValue) throws(InvalidRequest) {
        guard case .array(let messages) = value else {
            throw RequestFields.typeError("messages", expected: "an array", got: value)
        }
        guard !messages.isEmpty else {
            throw InvalidRequest("'messages' must contain at least one message", param: "messages")
        }
        var calls = PendingCalls()
        for (i, value) in messages.enumerated() {
            let message = try RequestFields(value, path: "messages[\(i)]")
            let role = try message.requiredString("role")
            _ = try message.string("name")
            if role != "tool" { try calls.requireAllAnswered() }
            switch role {
            case "system", "developer":
                try checkTextContent(message)
            case "user":
                try checkUserContent(message)
            case "assistant":
                try checkAssistant(message, index: i, calls: &calls)
            case "tool":
                try checkTextContent(message)
                try calls.answer(try message.requiredString("tool_call_id"), param: message.param("tool_call_id"))
            case "function":
                _ = try message.requiredString("name")
                _ = try message.string("content")
            default:
                throw InvalidRequest(
                    "Invalid value for '\(message.param("role"))': '\(role)'; expected one of \(roles.map { "'\($0)'" }.joined(separator: ", "))",
                    param: message.param("role"))
            }
        }
        try calls.requireAllAnswered()
    }

    /// A string, or an array of `text` parts (system, developer and tool messages).
    static func checkTextContent(_ message: RequestFields) throws(InvalidRequest) {
        try forEachPart(try message.required("content"), param: message.param("content")) {
            (part, type) throws(InvalidRequest) in
            guard type == "text" else { throw unsupportedPart(part, type, allowed: ["text"]) }
            _ = try part.requiredString("text")
        }
    }

    static func checkUserContent(_ message: RequestFields) throws(InvalidRequest) {
        try forEachPart(try message.required("content"), param: message.param("content")) {
            (part, type) throws(InvalidRequest) in
            switch type {
            case "text":
                _ = try part.requiredString("text")
            case "image_url":
                let image = try part.requiredFields("image_url")
                _ = try image.requiredString("url")
                _ = try image.choice("detail", ["auto", "low", "high"])
            case "input_audio":
                let audio = try part.requiredFields("input_audio")
                _ = try audio.requiredString("data")
                _ = try audio.choice("format", ["wav", "mp3"])
            case "file":
                let file = try part.requiredFields("file")
                let data = try file.string("file_data")
                let fileID = try file.string("file_id")
                guard data != nil || fileID != nil else {
                    throw InvalidRequest("'\(file.path)' needs 'file_data' or 'file_id'", param: file.path)
                }
                _ = try file.string("filename")
            default:
                throw unsupportedPart(part, type, allowed: ["text", "image_url", "input_audio", "file"])
            }
        }
    }

    static func checkAssistant(_ message: RequestFields, index: Int, calls: inout PendingCalls) throws(InvalidRequest) {
        if let content = message["content"] {
            try forEachPart(content, param: message.param("content")) { (part, type) throws(InvalidRequest) in
                switch type {
                case "text": _ = try part.requiredString("text")
                case "refusal": _ = try part.requiredString("refusal")
                default: throw unsupportedPart(part, type, allowed: ["text", "refusal"])
                }
            }
        }
        _ = try message.string("refusal")
        var ids = [String]()
        for (i, value) in (try message.array("tool_calls") ?? []).enumerated() {
            let call = try RequestFields(value, path: message.param("tool_calls[\(i)]"))
            ids.append(try call.requiredString("id"))
            _ = try call.requiredString("type")
            _ = try call.choice("type", ["function"])
            let function = try call.requiredFields("function")
            _ = try function.requiredString("name")
            _ = try function.requiredString("arguments")
        }
        if ids.isEmpty, message["content"] == nil, message["function_call"] == nil {
            throw InvalidRequest(
                "'\(message.param("content"))' is required unless 'tool_calls' is set", param: message.param("content"))
        }
        calls = PendingCalls(assistantIndex: index, ids: ids)
    }

    /// Checks a string-or-parts content; `check` sees each part with its `type`.
    static func forEachPart(
        _ content: JSONValue, param: String, _ check: (RequestFields, String) throws(InvalidRequest) -> Void
    ) throws(InvalidRequest) {
        switch content {
        case .string: return
        case .array(let parts):
            for (i, value) in parts.enumerated() {
                let part = try RequestFields(value, path: "\(param)[\(i)]")
                try check(part, try part.requiredString("type"))
            }
        default: throw RequestFields.typeError(param, expected: "a string or an array of content parts", got: content)
        }
    }

    static func unsupportedPart(_ part: RequestFields, _ type: String, allowed: [String]) -> InvalidRequest {
        InvalidRequest(
            "Invalid value for '\(part.param("type"))': '\(type)'; this message accepts \(allowed.map { "'\($0)'" }.joined(separator: ", ")) parts",
            param: part.param("type"))
    }
}

/// The calls of the latest assistant message that still wait for their `tool` message.
struct PendingCalls {
    var assistantIndex: Int?
    var ids: [String] = []

    mutating func answer(_ id: String, param: String) throws(InvalidRequest) {
        guard let i = ids.firstIndex(of: id) else {
            let reason =
                assistantIndex == nil
                ? "must be a response to a preceding message with 'tool_calls'"
                : "answers no open tool call of the preceding assistant message"
            throw InvalidRequest("A message with role 'tool' and tool_call_id '\(id)' \(reason)", param: param)
        }
        ids.remove(at: i)
    }

    /// Called before any non-`tool` message: the previous assistant's calls must all be answered.
    mutating func requireAllAnswered() throws(InvalidRequest) {
        if let assistantIndex, !ids.isEmpty {
            throw InvalidRequest(
                "An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'; missing: \(ids.joined(separator: ", "))",
                param: "messages[\(assistantIndex)].tool_calls")
        }
        self = PendingCalls()
    }
}
