import Foundation
import GatewayCore

/// A saved gateway response reduced to what its signature covers: the `tee_*` fields and the
/// answer they claim, folded with `CompletionAccumulator` exactly as the worker folds it, so
/// `outputHash` is what `tee_output_hash` must be.
///
/// Accepted shapes: OpenAI chat (`choices[0].message.content`, or `tool_calls` when present —
/// then only the calls are hashed) and completions (`choices[0].text`), non-streamed or as the
/// raw SSE text of a stream (deltas and tool-call fragments concatenated, `tee_*` from the last
/// chunk that has them); Anthropic `type: "message"` with text blocks only, and Anthropic streams.
///
/// With kind `.anthropicMessages` (a Claude model, routed natively) the answer is every content
/// block, hashed by GatewayCore's `AnthropicProjection`, whole or rebuilt from the stream.
///
/// Used by gatewayctl `verify` on saved files and by `ObliviousClient` on decrypted answers.
public struct SignedResponse: Sendable {
    public let signature: TEESignature
    public let answer: CompletionAccumulator
    /// Which API's response this is; Anthropic requests are hashed in their translated chat form.
    public enum Dialect: String, Sendable {
        case chat, completions, anthropic
        case anthropicNative = "native anthropic"
    }

    public let dialect: Dialect
    public let streamed: Bool
    /// Native Anthropic answers: the content blocks the output hash covers.
    public private(set) var nativeContent: [JSONValue]?

    public var outputHash: Keccak256Digest { nativeContent.map { AnthropicProjection.outputHash(content: $0) } ?? answer.outputHash }

    public init(json bytes: [UInt8], kind: RequestKind) throws(ResponseFileError) {
        let body = try Self.parse(bytes, chunk: nil)
        var answer = CompletionAccumulator()
        if kind == .anthropicMessages {
            guard let content = body["content"]?.arrayValue else { throw .shape("no content array: not an Anthropic message") }
            nativeContent = content
            dialect = .anthropicNative
        } else if body["type"]?.stringValue == "message" {
            try Self.addAnthropicContent(body, to: &answer)
            dialect = .anthropic
        } else {
            let choice = try Self.firstChoice(body)
            switch kind {
            case .chat:
                guard let message = choice["message"]?.objectValue.map(JSONValue.object) else {
                    throw .shape("choices[0].message is missing: not a chat completion (use --kind completions?)")
                }
                try Self.add(message, to: &answer, field: "choices[0].message")
            case .completions:
                guard let text = choice["text"]?.stringValue else {
                    throw .shape("choices[0].text is missing: not a text completion (use --kind chat?)")
                }
                answer.add(.text(text))
            case .anthropicMessages:
                throw .shape("unreachable")
            }
            dialect = kind == .chat ? .chat : .completions
        }
        self.answer = answer
        streamed = false
        do { signature = try TEESignature(response: body) } catch { throw .signature(error) }
    }

    public init(stream bytes: [UInt8], kind: RequestKind) throws(ResponseFileError) {
        var answer = CompletionAccumulator()
        var signed: JSONValue?
        var anthropic = false
        var assembler = kind == .anthropicMessages ? AnthropicStreamAssembler() : nil
        var parser = SSEParser()
        var events: [String]
        do { events = try parser.feed(bytes).map(\.data) } catch { throw .shape(error.description) }
        if let last = parser.finish() { events.append(last.data) }
        for (index, data) in events.enumerated() where data != "[DONE]" {
            let chunk = try Self.parse(Array(data.utf8), chunk: index)
            if chunk["tee_signature"] != nil { signed = chunk }
            if assembler != nil {
                do { try assembler?.add(chunk) } catch { throw .shape("SSE event \(index): \(error)") }
                continue
            }
            if let type = chunk["type"]?.stringValue {
                anthropic = true
                try Self.addAnthropicEvent(type, chunk, index: index, to: &answer)
                continue
            }
            guard let choice = chunk["choices"]?.arrayValue?.first else { continue }  // e.g. a usage-only chunk
            switch kind {
            case .chat:
                guard let delta = choice["delta"] else { continue }
                try Self.add(delta, to: &answer, field: "chunk \(index) choices[0].delta")
            case .completions:
                if let text = choice["text"]?.stringValue { answer.add(.text(text)) }
            case .anthropicMessages:
                continue
            }
        }
        guard let signed else { throw .noSignedChunk(chunks: events.count) }
        self.answer = answer
        nativeContent = assembler?.content
        dialect = assembler != nil ? .anthropicNative : anthropic ? .anthropic : kind == .chat ? .chat : .completions
        streamed = true
        do { signature = try TEESignature(response: signed) } catch { throw .signature(error) }
    }

    private static func parse(_ bytes: [UInt8], chunk: Int?) throws(ResponseFileError) -> JSONValue {
        do { return try JSONParser().parse(bytes) } catch { throw .json(error, chunk: chunk) }
    }

    private static func firstChoice(_ body: JSONValue) throws(ResponseFileError) -> JSONValue {
        guard let choice = body["choices"]?.arrayValue?.first else {
            throw .shape("no choices[0]: not a completion response (an error body?)")
        }
        return choice
    }

    /// A chat message or delta: `content` text and `tool_calls` (whole, or stream fragments
    /// carrying `index`; a non-streamed call's position is its index).
    private static func add(_ message: JSONValue, to answer: inout CompletionAccumulator, field: String) throws(ResponseFileError) {
        if let content = message["content"], !content.isNull {
            guard let text = content.stringValue else { throw .shape("\(field).content must be a string or null, not \(content.typeName)") }
            answer.add(.text(text))
        }
        guard let calls = message["tool_calls"], !calls.isNull else { return }
        guard let list = calls.arrayValue else { throw .shape("\(field).tool_calls must be an array") }
        for (position, call) in list.enumerated() {
            let index = call["index"]?.numberValue?.intValue ?? position
            let function = call["function"]
            answer.add(.toolCall(
                index: index, id: call["id"]?.stringValue, name: function?["name"]?.stringValue,
                arguments: function?["arguments"]?.stringValue ?? ""))
        }
    }

    /// Text blocks concatenate into the signed text. A `tool_use` block carries `input` as
    /// parsed JSON, not the arguments text the worker hashed, so it cannot be re-hashed exactly.
    private static func addAnthropicContent(_ body: JSONValue, to answer: inout CompletionAccumulator) throws(ResponseFileError) {
        guard let blocks = body["content"]?.arrayValue else { throw .shape("Anthropic message has no content array") }
        for (index, block) in blocks.enumerated() {
            switch block["type"]?.stringValue {
            case "text":
                guard let text = block["text"]?.stringValue else { throw .shape("content[\(index)].text must be a string") }
                answer.add(.text(text))
            case "tool_use":
                throw .unsupported(
                    "content[\(index)] is tool_use: the signed hash covers the tool arguments text as the model produced it, "
                        + "which `input` (re-parsed JSON) does not preserve; verify a streamed response instead")
            default: continue  // thinking and other blocks are not part of the signed answer
            }
        }
    }
}

extension SignedResponse {
    /// An Anthropic stream event. The worker forwards each tool call's arguments text verbatim as
    /// `input_json_delta` fragments, so a stream (unlike a non-streamed `tool_use`) re-hashes
    /// exactly: text deltas concatenate, a `tool_use` block start gives the call's id and name,
    /// and its block index orders the calls.
    fileprivate static func addAnthropicEvent(
        _ type: String, _ event: JSONValue, index: Int, to answer: inout CompletionAccumulator
    ) throws(ResponseFileError) {
        guard type == "content_block_start" || type == "content_block_delta" else { return }
        guard let block = event["index"]?.numberValue?.intValue else {
            throw .shape("SSE event \(index) (\(type)) has no integer index")
        }
        if type == "content_block_start" {
            guard let start = event["content_block"], start["type"]?.stringValue == "tool_use" else { return }
            answer.add(.toolCall(
                index: block, id: start["id"]?.stringValue ?? "", name: start["name"]?.stringValue ?? "", arguments: ""))
            return
        }
        let delta = event["delta"]
        switch delta?["type"]?.stringValue {
        case "text_delta":
            guard let text = delta?["text"]?.stringValue else { throw .shape("SSE event \(index): text_delta without text") }
            answer.add(.text(text))
        case "input_json_delta":
            guard let json = delta?["partial_json"]?.stringValue else {
                throw .shape("SSE event \(index): input_json_delta without partial_json")
            }
            answer.add(.toolCall(index: block, id: nil, name: nil, arguments: json))
        default: return  // thinking and signature deltas are not part of the signed answer
        }
    }
}

extension SignedResponse {
    /// The checks of ARCHITECTURE §6 on this answer: the RSA-PSS signature by `key` over
    /// (request hash, output hash, timestamp), `tee_id`, the recomputed output hash and, when
    /// the caller knows the request it sent, the request hash. Each failure names the check.
    /// `skippedBecause` explains a nil `requestHash` in the report.
    public func verify(
        with key: InferenceVerifyingKey, requestHash: Keccak256Digest?, skippedBecause: String = "the request is not known"
    ) -> CheckList {
        var checks = CheckList()
        let signatureCheck = key.verify(signature)
        checks.record(
            "signature",
            signatureCheck == .valid
                ? .passed("RSA-PSS by tee_id \(key.teeID) at tee_timestamp \(signature.timestamp)")
                : .failed(signatureCheck.description))
        checks.compare(
            "tee_output_hash", expected: signature.expectedOutputHash(answerHash: outputHash).hex, actual: signature.outputHash.hex,
            passed: "keccak of the \(answerDescription) in the \(dialect.rawValue) \(streamed ? "stream" : "response")"
                + (signature.cost.map { " with tee_cost \($0.amount) (keccak of its canonical JSON folded in)" } ?? ""))
        if let requestHash {
            checks.compare(
                "tee_request_hash", expected: requestHash.hex, actual: signature.requestHash.hex,
                passed: "keccak of the canonical request that was sent")
        } else {
            checks.record("tee_request_hash", .skipped(skippedBecause))
        }
        return checks
    }

    private var answerDescription: String {
        if let content = nativeContent { return "\(content.count) content block\(content.count == 1 ? "" : "s")" }
        let calls = answer.toolCalls.count
        return calls > 0 ? "\(calls) tool call\(calls == 1 ? "" : "s")" : "\(answer.text.utf8.count)-byte answer text"
    }
}

public enum ResponseFileError: Error, Sendable, CustomStringConvertible {
    case json(JSONParseError, chunk: Int?)
    case shape(String)
    case unsupported(String)
    case noSignedChunk(chunks: Int)
    case signature(InvalidRequest)

    public var description: String {
        switch self {
        case .json(let error, let chunk): (chunk.map { "SSE event \($0): " } ?? "") + error.description
        case .shape(let reason): reason
        case .unsupported(let reason): "unsupported: \(reason)"
        case .noSignedChunk(let chunks): "none of the \(chunks) SSE events carries tee_signature (is this the whole stream?)"
        case .signature(let error): "tee fields: \(error)"
        }
    }
}
