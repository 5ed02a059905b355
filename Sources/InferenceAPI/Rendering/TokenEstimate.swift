import GatewayCore

/// `/v1/messages/count_tokens` without calling a provider (providers differ, and the answer
/// must not depend on which one a model routes to).
///
/// The estimate covers the whole request, not just the last message: ceil(UTF-8 bytes / 4) over
/// the system prompt, every tool (name, description, compact JSON of `input_schema`) and every
/// message's text, tool-use input (compact JSON), tool-result text, thinking and text documents;
/// plus 4 tokens of framing per message and per tool; plus 1,600 tokens per image or binary
/// document (Anthropic's figure for a ~1.15-megapixel image). Four bytes per token is the usual
/// rule of thumb for English text; code and non-Latin scripts count higher upstream, so treat the
/// value as an estimate, as Anthropic's own endpoint documents its value.
public enum TokenEstimate {
    static let bytesPerToken = 4
    static let framingTokens = 4
    static let mediaTokens = 1600

    public static func inputTokens(_ request: AnthropicRequest) -> Int {
        var tally = Tally()
        tally.add(AnthropicToChat.systemText(request.body["system"]) ?? "")
        for tool in request.body["tools"]?.arrayValue ?? [] {
            tally.tokens += framingTokens
            tally.add(tool["name"]?.stringValue ?? "")
            tally.add(tool["description"]?.stringValue ?? "")
            tally.add(JSONWriter.string(tool["input_schema"] ?? [:], style: .compact))
        }
        for message in request.body["messages"]?.arrayValue ?? [] {
            tally.tokens += framingTokens
            switch message["content"] {
            case .string(let text)?: tally.add(text)
            case .array(let blocks)?: blocks.forEach { tally.add(block: $0) }
            default: break
            }
        }
        return tally.total
    }

    /// `{"input_tokens": N, "estimate": true}`: the flag tells the client this is the gateway's
    /// estimate, not a provider's count (Claude models get Anthropic's own count instead).
    public static func body(_ request: AnthropicRequest) -> [UInt8] {
        JSONWriter.serialize(["input_tokens": .number(JSONNumber(inputTokens(request))), "estimate": true], style: .compact)
    }

    struct Tally {
        var bytes = 0
        var tokens = 0

        var total: Int { tokens + (bytes + TokenEstimate.bytesPerToken - 1) / TokenEstimate.bytesPerToken }

        mutating func add(_ text: String) { bytes += text.utf8.count }

        mutating func add(block: JSONValue) {
            switch block["type"]?.stringValue {
            case "text": add(block["text"]?.stringValue ?? "")
            case "thinking": add(block["thinking"]?.stringValue ?? "")
            case "tool_use":
                add(block["name"]?.stringValue ?? "")
                add(JSONWriter.string(block["input"] ?? [:], style: .compact))
            case "tool_result":
                switch block["content"] {
                case .string(let text)?: add(text)
                case .array(let parts)?: parts.forEach { add(block: $0) }
                default: break
                }
            case "image": tokens += TokenEstimate.mediaTokens
            case "document":
                if block["source"]?["type"] == "text" {
                    add(block["source"]?["data"]?.stringValue ?? "")
                } else {
                    tokens += TokenEstimate.mediaTokens
                }
            default: break
            }
        }
    }
}
