import GatewayCore

/// Relays Anthropic's own event stream to the client, for a native `/v1/messages` request.
///
/// Every event goes out as Anthropic sent it, byte for byte and in order (`message_start`,
/// `ping`, every `content_block_*` with `text_delta`, `thinking_delta`, `signature_delta`,
/// `input_json_delta`, `citations_delta`, …), with one exception: the `message_delta` is held
/// until `message_stop` arrives, then sent with the `tee_*` fields added at its top level
/// (where the translated stream carries them too), followed by `message_stop`. The answer is
/// rebuilt alongside (``AnthropicStreamAssembler``) so the signature covers exactly what was relayed.
public struct NativeMessagesStream: Sendable {
    public private(set) var assembler = AnthropicStreamAssembler()
    private var heldDelta: JSONObject?
    private var stopFrame: [UInt8] = []
    /// `message_stop` arrived: the answer is whole and may be signed.
    public private(set) var isComplete = false
    /// Anthropic sent an `error` event (relayed as is): the stream ends there, unsigned.
    public private(set) var upstreamFailed = false

    public init() {}

    /// The frames to send now for one upstream event.
    public mutating func relay(name: String?, data: String) throws(APIError) -> [UInt8] {
        let payload: JSONValue
        do {
            payload = try JSONParser().parse(data)
        } catch {
            throw .upstream("Anthropic sent an event that is not JSON (\(error))")
        }
        let type = payload["type"]?.stringValue ?? name ?? ""
        do {
            try assembler.add(payload)
        } catch {
            throw .upstream("Anthropic's stream is inconsistent: \(error.message)")
        }
        switch type {
        case "message_delta":
            heldDelta = payload.objectValue
            return []
        case "error":
            upstreamFailed = true
            return Array("event: \(name ?? type)\ndata: \(data)\n\n".utf8)
        case "message_stop":
            isComplete = true
            stopFrame = Array("event: \(name ?? type)\ndata: \(data)\n\n".utf8)
            return []
        default:
            return Array("event: \(name ?? type)\ndata: \(data)\n\n".utf8)
        }
    }

    /// The held `message_delta` with the signature, then `message_stop`.
    public func finish(_ signature: TEESignature) -> [UInt8] {
        var delta = heldDelta ?? JSONObject([("type", "message_delta"), ("delta", [:]), ("usage", [:])])
        signature.attach(to: &delta)
        return SSE.event("message_delta", .object(delta)) + stopFrame
    }

    public func fail(_ error: APIError) -> [UInt8] { SSE.event("error", error.json(.anthropic)) }
}

/// The non-streaming native answer: Anthropic's message unchanged, plus the `tee_*` fields.
public enum NativeMessagesResponse {
    public static func outputHash(_ message: JSONObject) -> Keccak256Digest {
        AnthropicProjection.outputHash(content: message["content"]?.arrayValue ?? [])
    }

    public static func body(_ message: JSONObject, signature: TEESignature) -> [UInt8] {
        var message = message
        signature.attach(to: &message)
        return JSONWriter.serialize(.object(message), style: .compact)
    }
}
