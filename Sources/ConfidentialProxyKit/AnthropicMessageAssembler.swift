import Foundation
import GatewayCore

/// Non-streamed Anthropic `/v1/messages` through a stream.
///
/// A non-streamed `tool_use` block carries `input` as re-parsed JSON, not the arguments text the
/// enclave signed, so its signature cannot be re-checked exactly; a stream carries that text
/// verbatim in `input_json_delta`. So the proxy asks the enclave for a stream (`stream` is not
/// part of the signed request hash), verifies it exactly, and folds the verified events into the
/// `type: "message"` object the client asked for.
enum AnthropicMessageAssembler {
    /// The request body with `"stream":true` added; nil when the body is not a JSON object or
    /// already says something about streaming.
    static func streamingBody(_ body: [UInt8]) -> [UInt8]? {
        guard let object = try? JSONParser().parse(body), object.objectValue != nil, object["stream"] == nil,
            let open = body.firstIndex(of: UInt8(ascii: "{"))
        else { return nil }
        let rest = body[(open + 1)...]
        let empty = rest.first { ![0x20, 0x09, 0x0A, 0x0D].contains($0) } == UInt8(ascii: "}")
        return Array(body[...open]) + Array((empty ? #""stream":true"# : #""stream":true,"#).utf8) + Array(rest)
    }

    struct AssemblyError: Error, CustomStringConvertible {
        let description: String
    }

    /// The `message` object the events describe: `message_start`'s message, each content block
    /// completed from its deltas (`tool_use` input parsed from the streamed arguments text),
    /// `message_delta`'s stop reason and usage, and the `tee_*` fields wherever they came.
    static func message(fromSSE bytes: [UInt8]) throws -> [UInt8] {
        var parser = SSEParser()
        var events = try parser.feed(bytes)
        if let last = parser.finish() { events.append(last) }
        var message: [String: Any] = [:]
        var blocks: [Int: [String: Any]] = [:]
        var arguments: [Int: String] = [:]
        for event in events {
            guard let object = try JSONSerialization.jsonObject(with: Data(event.data.utf8)) as? [String: Any] else { continue }
            for (key, value) in object where key.hasPrefix("tee_") { message[key] = value }
            switch object["type"] as? String {
            case "message_start":
                for (key, value) in object["message"] as? [String: Any] ?? [:] where message[key] == nil || !key.hasPrefix("tee_") {
                    message[key] = value
                }
            case "content_block_start":
                guard let index = object["index"] as? Int, let block = object["content_block"] as? [String: Any] else { continue }
                blocks[index] = block
            case "content_block_delta":
                guard let index = object["index"] as? Int, let delta = object["delta"] as? [String: Any] else { continue }
                var block = blocks[index] ?? [:]
                switch delta["type"] as? String {
                case "text_delta": block["text"] = (block["text"] as? String ?? "") + (delta["text"] as? String ?? "")
                case "thinking_delta": block["thinking"] = (block["thinking"] as? String ?? "") + (delta["thinking"] as? String ?? "")
                case "signature_delta": block["signature"] = (block["signature"] as? String ?? "") + (delta["signature"] as? String ?? "")
                case "input_json_delta": arguments[index, default: ""] += delta["partial_json"] as? String ?? ""
                default: break
                }
                blocks[index] = block
            case "message_delta":
                if let delta = object["delta"] as? [String: Any] { for (key, value) in delta { message[key] = value } }
                if let usage = object["usage"] as? [String: Any] {
                    var merged = message["usage"] as? [String: Any] ?? [:]
                    for (key, value) in usage { merged[key] = value }
                    message["usage"] = merged
                }
            case "error":
                throw AssemblyError(description: "the stream ended with an error event: \(event.data.prefix(300))")
            default: break
            }
        }
        guard message["type"] as? String == "message" else { throw AssemblyError(description: "the stream has no message_start") }
        for (index, text) in arguments {
            let input = text.isEmpty ? [String: Any]() : try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
            blocks[index]?["input"] = input
        }
        message["content"] = blocks.keys.sorted().compactMap { blocks[$0] }
        return Array(try JSONSerialization.data(withJSONObject: message, options: [.withoutEscapingSlashes]))
    }
}
