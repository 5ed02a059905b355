import Foundation
import GatewayCore

/// What the local model answers to a request: a pure function of the request, independent of
/// `temperature` and `seed` (same request, same answer, byte for byte).
///
/// The rules, in order:
/// 1. Tool call — when `tools` is non-empty, `tool_choice` is not `"none"` and the last message is
///    a user message: `{"type":"function","function":{"name":X}}` calls X; `"required"` calls
///    the first tool whose name appears in the last user text (case-insensitive), else the first
///    tool; `"auto"` (or absent) calls the first tool whose name appears in that text, and
///    otherwise answers in text. The call's arguments are a ``SchemaInstance`` of the tool's
///    `parameters`; its id is `call_` + 24 hex digits of keccak(prompt ‖ tool name).
/// 2. Text — `You said: <last user text>`; after a tool result, `Tool result: <content>`; with no
///    user text, a fixed greeting. With `response_format` `json_schema` the answer is instead a
///    ``SchemaInstance`` of the schema, and with `json_object` it is `{"reply": <text>}`, both
///    compact JSON.
/// 3. `stop` — the text is cut before the earliest stop sequence (finish `stop`).
/// 4. `max_tokens` / `max_completion_tokens` — at most that many tokens of text (finish
///    `length`); tool calls are never cut.
///
/// Tokens are what ``LocalTokenizer`` splits; usage counts prompt tokens over every message's
/// text and completion tokens over what was emitted.
struct LocalAnswer: Equatable {
    enum Body: Equatable {
        case text([String], FinishReason)
        case toolCall(id: String, name: String, argumentPieces: [String])
    }

    var body: Body
    var promptTokens: Int

    var completionTokens: Int {
        switch body {
        case .text(let tokens, _): tokens.count
        case .toolCall(_, _, let pieces): pieces.count
        }
    }

    init(_ request: JSONObject) throws(ProviderError) {
        try ChatContent.requireSingleChoice(request)
        let messages = request["messages"]?.arrayValue ?? []
        let prompt = messages.map { ChatContent.text($0["content"]) }.joined(separator: "\n")
        promptTokens = LocalTokenizer.tokens(prompt).count
        let last = messages.last
        let userText = last?["role"]?.stringValue == "user" ? ChatContent.text(last?["content"]) : ""

        if last?["role"]?.stringValue == "user", let tool = try Self.chosenTool(request, userText: userText) {
            let name = tool["function"]?["name"]?.stringValue ?? ""
            let schema = tool["function"]?["parameters"] ?? ["type": "object"]
            let arguments = JSONWriter.string(SchemaInstance(root: schema, text: userText).instance(), style: .compact)
            let id = "call_" + String(Keccak256.hash(Array(prompt.utf8) + [0] + Array(name.utf8)).hex.prefix(24))
            body = .toolCall(id: id, name: name, argumentPieces: LocalTokenizer.tokens(arguments))
            return
        }

        var text: String
        if last?["role"]?.stringValue == "tool" {
            text = "Tool result: " + ChatContent.text(last?["content"])
        } else if userText.isEmpty {
            text = "Hello! I am the gateway's built-in local model."
        } else {
            text = "You said: " + userText
        }
        switch request["response_format"]?["type"]?.stringValue {
        case "json_schema":
            let schema = request["response_format"]?["json_schema"]?["schema"] ?? ["type": "object"]
            text = JSONWriter.string(SchemaInstance(root: schema, text: userText).instance(), style: .compact)
        case "json_object":
            text = JSONWriter.string(["reply": .string(text)], style: .compact)
        default:
            break
        }
        var finish = FinishReason.stop
        let cut = ChatContent.stopSequences(request).filter { !$0.isEmpty }.compactMap { text.range(of: $0)?.lowerBound }.min()
        if let cut { text = String(text[..<cut]) }
        var tokens = LocalTokenizer.tokens(text)
        if let limit = ChatContent.maxTokens(request), tokens.count > max(limit, 0) {
            tokens = Array(tokens.prefix(max(limit, 0)))
            finish = .length
        }
        body = .text(tokens, finish)
    }

    private static func chosenTool(_ request: JSONObject, userText: String) throws(ProviderError) -> JSONValue? {
        guard let tools = request["tools"]?.arrayValue, !tools.isEmpty else { return nil }
        let lowered = userText.lowercased()
        let mentioned = tools.first { tool in
            tool["function"]?["name"]?.stringValue.map { !$0.isEmpty && lowered.contains($0.lowercased()) } ?? false
        }
        switch request["tool_choice"] {
        case .string("none"): return nil
        case .string("required"): return mentioned ?? tools.first
        case .object(let choice):
            guard let name = choice["function"]?["name"]?.stringValue else { return mentioned }
            guard let tool = tools.first(where: { $0["function"]?["name"]?.stringValue == name }) else {
                throw .unsupported(reason: "tool_choice names function '\(name)', which is not in tools")
            }
            return tool
        default: return mentioned
        }
    }
}

/// The local model's tokens: a run of letters and digits, or one other visible character, each
/// with the whitespace that follows it (leading whitespace joins the first token). Joining the
/// tokens gives the text back exactly.
enum LocalTokenizer {
    static func tokens(_ text: String) -> [String] {
        var tokens: [String] = []
        var current = ""
        var previousWordy = false
        var sawSpace = false
        for character in text {
            if character.isWhitespace {
                current.append(character)
                sawSpace = true
                continue
            }
            let wordy = character.isLetter || character.isNumber
            if current.contains(where: { !$0.isWhitespace }), sawSpace || !wordy || !previousWordy {
                tokens.append(current)
                current = ""
            }
            current.append(character)
            previousWordy = wordy
            sawSpace = false
        }
        if !current.isEmpty { tokens.append(current) }
        return tokens
    }
}
