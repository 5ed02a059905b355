import GatewayCore

/// Server-sent event frames; each is complete on its own so the server can flush per event.
enum SSE {
    /// `data: <compact json>\n\n` (OpenAI's unnamed events).
    static func data(_ value: JSONValue) -> [UInt8] {
        var out = Array("data: ".utf8)
        JSONWriter.write(value, style: .compact, into: &out)
        out += [0x0A, 0x0A]
        return out
    }

    /// `event: <name>\ndata: <compact json>\n\n` (Anthropic's named events).
    static func event(_ name: String, _ value: JSONValue) -> [UInt8] { Array("event: \(name)\n".utf8) + data(value) }

    static let done = Array("data: [DONE]\n\n".utf8)
}
