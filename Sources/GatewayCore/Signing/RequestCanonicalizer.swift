/// A request the gateway refuses, with the parameter to blame. Becomes a 400 in both API dialects.
public struct InvalidRequest: Error, Equatable, CustomStringConvertible {
    public let message: String
    /// JSON path of the offending field, e.g. `messages[2].role` (OpenAI's `param`).
    public let param: String?

    public init(_ message: String, param: String? = nil) {
        self.message = message
        self.param = param
    }

    public var description: String { message }
}

/// Which signed endpoint a request body belongs to; each has its own canonical projection.
public enum RequestKind: String, Sendable, CaseIterable {
    /// `/v1/chat/completions` (and `/v1/messages`, hashed in its translated chat form).
    case chat
    /// `/v1/completions`.
    case completions
    /// `/v1/messages` routed natively to Anthropic (a Claude model): the request is hashed in its
    /// own Anthropic form (``AnthropicProjection/request(_:)``), not as a chat translation.
    case anthropicMessages = "anthropic"
}

/// The bytes `tee_request_hash` commits to, and that hash.
public struct CanonicalRequest: Sendable {
    public let kind: RequestKind
    /// The projected object before serialization.
    public let value: JSONValue
    /// `json.dumps(value, sort_keys=True).encode("utf-8")`.
    public let bytes: [UInt8]
    public let hash: Keccak256Digest

    public init(kind: RequestKind, body: JSONValue) throws(InvalidRequest) {
        self.kind = kind
        switch kind {
        case .chat: value = try RequestCanonicalizer.chat(body)
        case .completions: value = try RequestCanonicalizer.completions(body)
        case .anthropicMessages: value = try AnthropicProjection.request(body)
        }
        bytes = JSONWriter.serialize(value, style: .canonical)
        hash = Keccak256.hash(bytes)
    }
}

/// Projects request bodies onto the fields the signature covers, exactly as upstream's Python does,
/// so that any verifier holding its own request can recompute `tee_request_hash`.
///
/// The projection drops everything that does not change the answer's meaning for a verifier
/// (`stream`, `n`, `seed`, …) and fills upstream's defaults. It checks only what it needs to build
/// the projection (types and required fields); range checks belong to the API layer.
enum RequestCanonicalizer {
    static let chatRoles = ["system", "developer", "user", "assistant", "tool", "function"]

    static func chat(_ body: JSONValue) throws(InvalidRequest) -> JSONValue {
        let request = try requireObject(body)
        var canonical = JSONObject()
        canonical["model"] = .string(try requireString(request["model"], param: "model"))
        guard let messages = request["messages"] else { throw InvalidRequest("'messages' is a required property", param: "messages") }
        guard case .array(let list) = messages else { throw typeError("messages", expected: "an array", got: messages) }
        guard !list.isEmpty else { throw InvalidRequest("'messages' must contain at least one message", param: "messages") }
        var projected = [JSONValue]()
        projected.reserveCapacity(list.count)
        for (i, message) in list.enumerated() { projected.append(try projectMessage(message, param: "messages[\(i)]")) }
        canonical["messages"] = .array(projected)
        canonical["temperature"] = try temperature(request["temperature"], default: 0.0)
        if let maxTokens = request["max_tokens"], !maxTokens.isNull {
            canonical["max_tokens"] = try requireInteger(maxTokens, param: "max_tokens")
        }
        if let stop = try stop(request["stop"]) { canonical["stop"] = stop }
        if let tools = request["tools"], tools.isTruthy {
            guard case .array = tools else { throw typeError("tools", expected: "an array", got: tools) }
            canonical["tools"] = tools
        }
        if let format = request["response_format"], format.isTruthy {
            guard case .object = format else { throw typeError("response_format", expected: "an object", got: format) }
            canonical["response_format"] = format
        }
        return .object(canonical)
    }

    /// Upstream's legacy completions projection. Its quirks are part of the contract: an absent
    /// `temperature` hashes as `1.0` but an explicit `null` as `0.0`; an absent `max_tokens`
    /// hashes as `16` but an explicit `null` is left out.
    static func completions(_ body: JSONValue) throws(InvalidRequest) -> JSONValue {
        let request = try requireObject(body)
        var canonical = JSONObject()
        canonical["model"] = .string(try requireString(request["model"], param: "model"))
        guard let prompt = request["prompt"], !prompt.isNull else { throw InvalidRequest("'prompt' is a required property", param: "prompt") }
        switch prompt {
        case .string, .array: canonical["prompt"] = prompt
        default: throw typeError("prompt", expected: "a string or an array", got: prompt)
        }
        canonical["temperature"] = try temperature(request["temperature"], default: 1.0, nullDefault: 0.0)
        switch request["max_tokens"] {
        case nil: canonical["max_tokens"] = 16
        case .null?: break
        case let maxTokens?: canonical["max_tokens"] = try requireInteger(maxTokens, param: "max_tokens")
        }
        if let stop = try stop(request["stop"]) { canonical["stop"] = stop }
        return .object(canonical)
    }

    // MARK: Messages

    static func projectMessage(_ message: JSONValue, param: String) throws(InvalidRequest) -> JSONValue {
        guard case .object(let fields) = message else { throw typeError(param, expected: "an object", got: message) }
        let role = try requireString(fields["role"], param: "\(param).role")
        var out = JSONObject()
        out["role"] = .string(role)
        switch role {
        case "system", "developer":
            out["content"] = try requireContent(fields["content"], param: "\(param).content")
        case "user":
            out["content"] = try projectUserContent(try requireContent(fields["content"], param: "\(param).content"), param: "\(param).content")
        case "assistant":
            // Upstream hashes `content or ""`: a missing, null or empty content becomes "".
            switch fields["content"] ?? .null {
            case .null: out["content"] = ""
            case let content where content.stringValue != nil || content.arrayValue != nil:
                out["content"] = content.isTruthy ? content : ""
            case let content: throw typeError("\(param).content", expected: "a string, an array or null", got: content)
            }
            if let calls = fields["tool_calls"], calls.isTruthy {
                guard case .array(let list) = calls else { throw typeError("\(param).tool_calls", expected: "an array", got: calls) }
                var projected = [JSONValue]()
                for (i, call) in list.enumerated() { projected.append(try projectToolCall(call, param: "\(param).tool_calls[\(i)]")) }
                out["tool_calls"] = .array(projected)
            }
        case "tool":
            out["content"] = try requireContent(fields["content"], param: "\(param).content")
            out["tool_call_id"] = .string(try requireString(fields["tool_call_id"], param: "\(param).tool_call_id"))
        case "function":
            out["content"] = fields["content"] ?? .null
            out["name"] = .string(try requireString(fields["name"], param: "\(param).name"))
        default:
            throw InvalidRequest("'\(role)' is not a valid role; expected one of \(chatRoles.joined(separator: ", "))", param: "\(param).role")
        }
        return .object(out)
    }

    /// Text parts keep only `type` and `text`; every other part (image, file, audio, …) keeps only
    /// `type` and a `filename` when one is given, so attachment bytes are never hashed. This is
    /// upstream's current `canonical_user_content`, not its first version (which hashed a Python
    /// `repr` of the whole list, unreproducible outside Python).
    static func projectUserContent(_ content: JSONValue, param: String) throws(InvalidRequest) -> JSONValue {
        guard case .array(let parts) = content else { return content }
        var projected = [JSONValue]()
        projected.reserveCapacity(parts.count)
        for (i, part) in parts.enumerated() {
            let partParam = "\(param)[\(i)]"
            guard case .object(let fields) = part else { throw typeError(partParam, expected: "an object", got: part) }
            let type = try requireString(fields["type"], param: "\(partParam).type")
            var out = JSONObject()
            out["type"] = .string(type)
            if type == "text" {
                out["text"] = .string(try requireString(fields["text"], param: "\(partParam).text"))
            } else if let filename = fields["filename"], filename.isTruthy {
                out["filename"] = filename
            } else if let filename = fields["file"]?["filename"], filename.isTruthy {
                out["filename"] = filename
            }
            projected.append(.object(out))
        }
        return .array(projected)
    }

    static func projectToolCall(_ call: JSONValue, param: String) throws(InvalidRequest) -> JSONValue {
        guard case .object(let fields) = call else { throw typeError(param, expected: "an object", got: call) }
        let function = fields["function"] ?? .null
        if !function.isNull, function.objectValue == nil { throw typeError("\(param).function", expected: "an object", got: function) }
        return [
            "id": fields["id"] ?? .null,
            "type": fields["type"] ?? .null,
            "function": ["name": function["name"] ?? .null, "arguments": function["arguments"] ?? .null],
        ]
    }

    // MARK: Fields

    static func temperature(_ value: JSONValue?, default absent: Double, nullDefault: Double? = nil) throws(InvalidRequest) -> JSONValue {
        switch value {
        case nil: return .number(JSONNumber(absent))
        case .null?: return .number(JSONNumber(nullDefault ?? absent))
        case .number(let number)?:
            let double = number.doubleValue
            guard double.isFinite else { throw InvalidRequest("'temperature' \(number) is out of range", param: "temperature") }
            return .number(JSONNumber(double))
        case let other?: throw typeError("temperature", expected: "a number", got: other)
        }
    }

    static func stop(_ value: JSONValue?) throws(InvalidRequest) -> JSONValue? {
        guard let value, value.isTruthy else { return nil }
        switch value {
        case .string: return value
        case .array(let items):
            for (i, item) in items.enumerated() where item.stringValue == nil {
                throw typeError("stop[\(i)]", expected: "a string", got: item)
            }
            return value
        default: throw typeError("stop", expected: "a string or an array of strings", got: value)
        }
    }

    static func requireObject(_ value: JSONValue) throws(InvalidRequest) -> JSONObject {
        guard case .object(let object) = value else {
            throw InvalidRequest("the request body must be a JSON object, not \(value.typeName)")
        }
        return object
    }

    static func requireString(_ value: JSONValue?, param: String) throws(InvalidRequest) -> String {
        guard let value else { throw InvalidRequest("'\(param)' is a required property", param: param) }
        guard case .string(let string) = value else { throw typeError(param, expected: "a string", got: value) }
        return string
    }

    static func requireContent(_ value: JSONValue?, param: String) throws(InvalidRequest) -> JSONValue {
        guard let value else { throw InvalidRequest("'\(param)' is a required property", param: param) }
        switch value {
        case .string, .array: return value
        default: throw typeError(param, expected: "a string or an array of content parts", got: value)
        }
    }

    static func requireInteger(_ value: JSONValue, param: String) throws(InvalidRequest) -> JSONValue {
        guard case .number(let number) = value, number.isInteger else { throw typeError(param, expected: "an integer", got: value) }
        return value
    }

    static func typeError(_ param: String, expected: String, got value: JSONValue) -> InvalidRequest {
        InvalidRequest("'\(param)' must be \(expected), not \(value.typeName)", param: param)
    }
}
