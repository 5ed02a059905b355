/// The signature's view of a native Anthropic exchange (`/v1/messages` for a Claude model, sent
/// to Anthropic as the client wrote it). Upstream's chat projection cannot describe it: thinking,
/// `top_k`, documents and server tools have no chat spelling, and the answer is a list of typed
/// blocks, not one text. Shared by the worker (which signs) and every verifier (which recomputes),
/// so both sides derive the hashes from the same rules; docs/wire-contracts.md §3.5 and §4.1.
public enum AnthropicProjection {
    /// Top-level request fields that change what the model is asked; everything else (`stream`,
    /// `metadata`, `service_tier`, `cache_control` hints, …) is transport or billing and is not
    /// hashed, so a streamed and a non-streamed request hash alike.
    public static let requestFields = [
        "model", "system", "messages", "max_tokens", "temperature", "top_p", "top_k", "stop_sequences", "tools",
        "tool_choice", "thinking", "output_config",
    ]

    /// The canonical request: the fields above as sent (absent ones left out, `null` counts as
    /// absent), with every content block, system block and tool projected by ``projectBlock(_:)``.
    public static func request(_ body: JSONValue) throws(InvalidRequest) -> JSONValue {
        let request = try RequestCanonicalizer.requireObject(body)
        var canonical = JSONObject()
        canonical["model"] = .string(try RequestCanonicalizer.requireString(request["model"], param: "model"))
        guard case .array(let messages)? = request["messages"] else {
            throw InvalidRequest("'messages' is a required property and must be an array", param: "messages")
        }
        for key in requestFields.dropFirst() {
            guard let value = request[key], !value.isNull else { continue }
            switch key {
            case "messages":
                canonical[key] = .array(messages.map { (message: JSONValue) -> JSONValue in
                    guard case .object(var fields) = message else { return message }
                    if case .array(let blocks)? = fields["content"] { fields["content"] = .array(blocks.map(projectBlock)) }
                    return .object(fields)
                })
            case "system", "tools":
                canonical[key] = value.arrayValue.map { .array($0.map(projectBlock)) } ?? value
            default:
                canonical[key] = value
            }
        }
        return .object(canonical)
    }

    /// A content block (or system block, or tool) as hashed: `cache_control` removed (a caching
    /// hint, not part of the question), and base64 `source.data` removed so attachment bytes are
    /// never hashed (the chat rule); `tool_result` content blocks get the same treatment.
    public static func projectBlock(_ block: JSONValue) -> JSONValue {
        guard case .object(var fields) = block else { return block }
        fields["cache_control"] = nil
        if case .object(var source)? = fields["source"], source["type"] == "base64" {
            source["data"] = nil
            fields["source"] = .object(source)
        }
        if case .array(let inner)? = fields["content"] { fields["content"] = .array(inner.map(projectBlock)) }
        return .object(fields)
    }

    /// One answer block as the output hash covers it: `text` → `{type, text}`, `thinking` →
    /// `{type, thinking}`, `redacted_thinking` → `{type, data}`, `tool_use` and `server_tool_use`
    /// → `{type, id, name, input}`; any other block (server tool results) as sent minus
    /// `citations` and `cache_control`. Signatures and citations are provenance, not content.
    public static func outputBlock(_ block: JSONValue) -> JSONValue {
        guard case .object(let fields) = block else { return block }
        let type = fields["type"]?.stringValue ?? ""
        func pick(_ keys: [String]) -> JSONValue {
            var out = JSONObject()
            out["type"] = .string(type)
            for key in keys { out[key] = fields[key] ?? .null }
            return .object(out)
        }
        switch type {
        case "text": return pick(["text"])
        case "thinking": return pick(["thinking"])
        case "redacted_thinking": return pick(["data"])
        case "tool_use", "server_tool_use": return pick(["id", "name", "input"])
        default:
            var out = fields
            out["citations"] = nil
            out["cache_control"] = nil
            return .object(out)
        }
    }

    /// `tee_output_hash` of a native answer: keccak of `json.dumps([outputBlock(b) for b in
    /// content], sort_keys=True)`. Thinking and tool calls are covered, not only the final text.
    public static func outputHash(content: [JSONValue]) -> Keccak256Digest {
        Keccak256.hash(JSONWriter.serialize(.array(content.map(outputBlock)), style: .canonical))
    }
}

/// Rebuilds an Anthropic message's `content` from its stream events, so a streamed answer hashes
/// exactly like the same answer delivered whole: text, thinking and signature deltas
/// concatenate; a `tool_use` input is its `input_json_delta` fragments joined and parsed (`{}`
/// when none came); other blocks are taken from their `content_block_start`.
public struct AnthropicStreamAssembler: Sendable {
    private var blocks: [Int: JSONObject] = [:]
    private var partialJSON: [Int: String] = [:]

    public init() {}

    /// Feeds one event's JSON payload; events that carry no content are ignored.
    public mutating func add(_ event: JSONValue) throws(InvalidRequest) {
        guard let type = event["type"]?.stringValue, type.hasPrefix("content_block_") else { return }
        guard let index = event["index"]?.numberValue?.intValue else {
            throw InvalidRequest("'\(type)' event without an integer 'index'", param: "index")
        }
        switch type {
        case "content_block_start":
            guard case .object(let block)? = event["content_block"] else {
                throw InvalidRequest("content_block_start without a 'content_block' object", param: "content_block")
            }
            blocks[index] = block
        case "content_block_delta":
            guard var block = blocks[index] else {
                throw InvalidRequest("content_block_delta for block \(index), which never started", param: "index")
            }
            let delta = event["delta"]
            func append(_ key: String, _ piece: JSONValue?) {
                block[key] = .string((block[key]?.stringValue ?? "") + (piece?.stringValue ?? ""))
            }
            switch delta?["type"]?.stringValue {
            case "text_delta": append("text", delta?["text"])
            case "thinking_delta": append("thinking", delta?["thinking"])
            case "signature_delta": append("signature", delta?["signature"])
            case "input_json_delta": partialJSON[index, default: ""] += delta?["partial_json"]?.stringValue ?? ""
            case "citations_delta":
                if let citation = delta?["citation"] { block["citations"] = .array((block["citations"]?.arrayValue ?? []) + [citation]) }
            default: break
            }
            blocks[index] = block
        case "content_block_stop":
            guard var block = blocks[index] else { return }
            if let json = partialJSON.removeValue(forKey: index) {
                if json.allSatisfy(\.isWhitespace) {
                    block["input"] = .object(JSONObject())
                } else {
                    do {
                        block["input"] = try JSONParser().parse(json)
                    } catch {
                        throw InvalidRequest("tool input of block \(index) is not valid JSON: \(error)", param: "partial_json")
                    }
                }
            }
            blocks[index] = block
        default: break
        }
    }

    /// The blocks so far, in index order.
    public var content: [JSONValue] { blocks.keys.sorted().compactMap { blocks[$0].map(JSONValue.object) } }

    public var outputHash: Keccak256Digest { AnthropicProjection.outputHash(content: content) }
}
