import GatewayCore

/// Anthropic Messages SSE from provider events.
///
/// `message_start` comes before anything else; then blocks in order and never overlapping
/// (`content_block_start`, deltas, `content_block_stop`): text as `text_delta`, each tool call as
/// a `tool_use` block whose `arguments` fragments are forwarded at once as `input_json_delta`.
/// `finish` closes the open block and sends `message_delta` (stop reason, cumulative usage, and
/// the `tee_*` fields at the top level of that event, the one place Anthropic clients read
/// final metadata from) and `message_stop`. No `[DONE]`: Anthropic streams have none.
public struct AnthropicMessageStream: StreamRenderer {
    enum OpenBlock: Equatable {
        case text
        case toolCall(Int)
    }

    let id: String
    let model: String
    public private(set) var accumulator = CompletionAccumulator()
    private var started = false
    private var current: OpenBlock?
    private var nextIndex = 0
    private var finishedCalls: Set<Int> = []

    public init(id: String, model: String) {
        self.id = id
        self.model = model
    }

    /// Throws when a provider resumes a tool call after another block began: Anthropic blocks
    /// cannot interleave, and dropping the fragment would show less than what gets signed.
    public mutating func render(_ event: CompletionEvent) throws(APIError) -> [UInt8] {
        accumulator.add(event)
        var out = start()
        switch event {
        case .text(let piece):
            guard !piece.isEmpty else { break }
            if current != .text {
                out += close()
                out += begin(.text, block: ["type": "text", "text": ""])
            }
            out += delta(["type": "text_delta", "text": .string(piece)])
        case .toolCall(let index, let callID, let name, let arguments):
            if current != .toolCall(index) {
                guard !finishedCalls.contains(index) else {
                    throw APIError.upstream(
                        "the provider interleaved the fragments of tool call \(index) with other output")
                }
                out += close()
                out += begin(
                    .toolCall(index),
                    block: ["type": "tool_use", "id": .string(callID ?? ""), "name": .string(name ?? ""), "input": [:]])
            }
            if !arguments.isEmpty { out += delta(["type": "input_json_delta", "partial_json": .string(arguments)]) }
        case .finish, .usage, .logprobs:
            break
        }
        return out
    }

    public mutating func finish(_ signature: TEESignature) -> [UInt8] {
        var out = start() + close()
        var messageDelta = JSONObject.with([
            "type": "message_delta",
            "delta": [
                "stop_reason": .string(accumulator.resolvedFinishReason.anthropicStopReason), "stop_sequence": nil,
            ],
            "usage": accumulator.anthropicUsage,
        ])
        signature.attach(to: &messageDelta)
        out += SSE.event("message_delta", .object(messageDelta))
        return out + SSE.event("message_stop", ["type": "message_stop"])
    }

    public func fail(_ error: APIError) -> [UInt8] { error.streamFrame(.anthropic) }

    private mutating func start() -> [UInt8] {
        guard !started else { return [] }
        started = true
        let message: JSONValue = [
            "id": .string(id), "type": "message", "role": "assistant", "model": .string(model), "content": [],
            "stop_reason": nil, "stop_sequence": nil, "usage": accumulator.anthropicUsage,
        ]
        return SSE.event("message_start", ["type": "message_start", "message": message])
    }

    private mutating func begin(_ block: OpenBlock, block json: JSONValue) -> [UInt8] {
        current = block
        return SSE.event(
            "content_block_start",
            ["type": "content_block_start", "index": .number(JSONNumber(nextIndex)), "content_block": json])
    }

    private func delta(_ delta: JSONValue) -> [UInt8] {
        SSE.event(
            "content_block_delta",
            ["type": "content_block_delta", "index": .number(JSONNumber(nextIndex)), "delta": delta])
    }

    private mutating func close() -> [UInt8] {
        guard let block = current else { return [] }
        if case .toolCall(let index) = block { finishedCalls.insert(index) }
        current = nil
        defer { nextIndex += 1 }
        return SSE.event("content_block_stop", ["type": "content_block_stop", "index": .number(JSONNumber(nextIndex))])
    }
}
