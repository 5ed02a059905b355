import GatewayCore

/// Which client protocol a route speaks; decides error shapes and stream framing.
public enum APIDialect: Sendable {
    /// `/v1/chat/completions`, `/v1/completions`, `/v1/models`: `{"error":{message,type,param,code}}`.
    case openAI
    /// `/v1/messages*`: `{"type":"error","error":{type,message}}`.
    case anthropic
}

extension APIError {
    /// The error object in the dialect's shape; also the payload of a mid-stream error frame.
    public func json(_ dialect: APIDialect) -> JSONValue {
        switch dialect {
        case .openAI:
            [
                "error": [
                    "message": .string(message), "type": .string(openAIType),
                    "param": param.map(JSONValue.string) ?? .null, "code": code.map(JSONValue.string) ?? .null,
                ]
            ]
        case .anthropic:
            ["type": "error", "error": ["type": .string(anthropicType), "message": .string(anthropicMessage)]]
        }
    }

    /// Anthropic has no `param`, so the path leads the message unless the message names it already.
    private var anthropicMessage: String {
        guard let param, !message.contains("'\(param)'") else { return message }
        return "\(param): \(message)"
    }

    /// The dialect's mid-stream error frame: `data: {"error":…}` for OpenAI, `event: error` for
    /// Anthropic. A stream that fails after its 200 head ends with this frame, never silently.
    public func streamFrame(_ dialect: APIDialect) -> [UInt8] {
        switch dialect {
        case .openAI: SSE.data(json(.openAI))
        case .anthropic: SSE.event("error", json(.anthropic))
        }
    }

    /// The response body for a non-2xx reply.
    public func body(_ dialect: APIDialect) -> [UInt8] { JSONWriter.serialize(json(dialect), style: .compact) }
}
