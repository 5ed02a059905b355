import GatewayCore

/// A function tool the client offered (`tools[i]`), checked as OpenAI checks it.
public struct ChatTool: Sendable {
    public let name: String
    public let description: String?
    /// The JSON schema of the arguments; `nil` when the client sent none (no arguments).
    public let parameters: JSONObject?

    static func parseAll(_ fields: RequestFields) throws(InvalidRequest) -> [ChatTool] {
        guard let list = try fields.array("tools") else { return [] }
        var tools = [ChatTool]()
        for (i, value) in list.enumerated() {
            let tool = try RequestFields(value, path: "tools[\(i)]")
            let type = try tool.requiredString("type")
            guard type == "function" else {
                throw InvalidRequest(
                    "Invalid value for '\(tool.param("type"))': '\(type)'; only 'function' tools are supported",
                    param: tool.param("type"))
            }
            let function = try tool.requiredFields("function")
            let name = try function.requiredString("name")
            guard isValidToolName(name) else {
                throw InvalidRequest(
                    "Invalid '\(function.param("name"))': '\(name)' does not match '^[a-zA-Z0-9_-]{1,64}$'",
                    param: function.param("name"))
            }
            let parameters = try function.fields("parameters")?.object
            _ = try function.bool("strict")
            tools.append(ChatTool(name: name, description: try function.string("description"), parameters: parameters))
        }
        return tools
    }

    /// `tool_choice`: `none`/`auto`/`required` or a named function that must be among `tools`.
    /// `none` and `auto` are accepted without tools (they ask for nothing a provider could fail);
    /// `required` and a named function are not, as OpenAI refuses them.
    static func checkChoice(_ fields: RequestFields, tools: [ChatTool]) throws(InvalidRequest) {
        guard let choice = fields["tool_choice"] else { return }
        let toolNeeded: String
        switch choice {
        case .string(let mode):
            _ = try fields.choice("tool_choice", ["none", "auto", "required"])
            guard mode == "required" else { return }
            toolNeeded = "'tool_choice' 'required'"
        case .object:
            let named = try RequestFields(choice, path: "tool_choice")
            _ = try named.requiredString("type")
            _ = try named.choice("type", ["function"])
            let function = try named.requiredFields("function")
            let name = try function.requiredString("name")
            guard tools.contains(where: { $0.name == name }) else {
                throw InvalidRequest(
                    "Invalid 'tool_choice': no tool named '\(name)' is in 'tools'", param: "tool_choice.function.name")
            }
            return
        default:
            throw RequestFields.typeError("tool_choice", expected: "a string or an object", got: choice)
        }
        guard !tools.isEmpty else {
            throw InvalidRequest("\(toolNeeded) is only allowed when 'tools' are specified", param: "tool_choice")
        }
    }
}

/// `response_format`, which decides whether the answer must be JSON (and match a schema).
public enum ResponseFormat: Sendable {
    case text
    case jsonObject
    case jsonSchema(name: String, schema: JSONObject, strict: Bool)

    init(_ fields: RequestFields) throws(InvalidRequest) {
        guard let format = try fields.fields("response_format") else {
            self = .text
            return
        }
        _ = try format.requiredString("type")
        switch try format.choice("type", ["text", "json_object", "json_schema"]) {
        case "json_object": self = .jsonObject
        case "json_schema":
            let spec = try format.requiredFields("json_schema")
            let name = try spec.requiredString("name")
            guard isValidToolName(name) else {
                throw InvalidRequest(
                    "Invalid '\(spec.param("name"))': '\(name)' does not match '^[a-zA-Z0-9_-]{1,64}$'",
                    param: spec.param("name"))
            }
            let schema = try spec.requiredFields("schema")
            _ = try spec.string("description")
            self = .jsonSchema(name: name, schema: schema.object, strict: try spec.bool("strict") ?? false)
        default: self = .text
        }
    }
}
