import Foundation
import GatewayCore
import Testing

/// The signed routes against the built-in `local` model: every answer verifies the way a client
/// would check it.
@Suite("signed inference with the local model")
struct SignedInferenceTests {
    @Test("chat, non-stream: the answer is signed over the canonical request and the text shown")
    func chat() async throws {
        try await withWorker { worker in
            let key = try await worker.verifyingKey()
            let request =
                #"{"model":"local","messages":[{"role":"system","content":"be brief"},{"role":"user","content":"Hello worker"}],"temperature":0.2,"seed":7}"#
            let reply = try await worker.client.send(.POST, "/v1/chat/completions", body: .json(request))
            #expect(reply.status == 200)
            let body = try reply.json
            #expect(body["object"] as? String == "chat.completion")
            #expect(body["model"] as? String == "local")
            let message = try #require(((body["choices"] as? [[String: Any]])?.first?["message"]) as? [String: Any])
            let content = try #require(message["content"] as? String)
            #expect(content == "You said: Hello worker")
            try SignedFields(body).check(request: request, kind: .chat, output: OutputHash.text(content), key: key)
            let health = try await worker.client.send(.GET, "/health")
            #expect(body["tee_id"] as? String == (try health.json["tee_id"] as? String))
        }
    }

    @Test("chat, stream: text deltas, then one signed finishing chunk, then [DONE]")
    func chatStream() async throws {
        try await withWorker { worker in
            let key = try await worker.verifyingKey()
            let request =
                #"{"model":"local","messages":[{"role":"user","content":"stream this please"}],"stream":true}"#
            let reply = try await worker.client.send(.POST, "/v1/chat/completions", body: .json(request))
            #expect(reply.status == 200)
            #expect(reply.header("content-type") == "text/event-stream")
            let frames = reply.sseData
            #expect(frames.last == "[DONE]")
            let chunks = try frames.dropLast().map(jsonObject)
            let deltas = chunks.compactMap {
                (($0["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any])?["content"] as? String
            }
            let text = deltas.joined()
            #expect(text == "You said: stream this please")
            #expect(deltas.count > 1, "the local model streams token by token")

            let signed = chunks.filter { $0["tee_signature"] != nil }
            #expect(signed.count == 1)
            let final = try #require(chunks.last)
            #expect(final["tee_signature"] != nil, "the signature is on the last chunk before [DONE]")
            #expect(((final["choices"] as? [[String: Any]])?.first?["finish_reason"]) as? String == "stop")
            try SignedFields(final).check(request: request, kind: .chat, output: OutputHash.text(text), key: key)
        }
    }

    @Test("a stream and a non-stream request with the same fields share tee_request_hash")
    func streamAndNonStreamHashAlike() async throws {
        try await withWorker { worker in
            let plain = try await worker.client.send(
                .POST, "/v1/chat/completions",
                body: .json(#"{"model":"local","messages":[{"role":"user","content":"same"}]}"#))
            let streamed = try await worker.client.send(
                .POST, "/v1/chat/completions",
                body: .json(#"{"model":"local","messages":[{"role":"user","content":"same"}],"stream":true}"#))
            let final = try #require(try streamed.sseData.dropLast().map(jsonObject).last)
            let plainHash = try #require(try plain.json["tee_request_hash"] as? String)
            #expect(final["tee_request_hash"] as? String == plainHash)
            #expect(final["tee_output_hash"] as? String == (try plain.json["tee_output_hash"] as? String))
        }
    }

    @Test("/v1/messages: an Anthropic message, signed over its chat translation")
    func messages() async throws {
        try await withWorker { worker in
            let key = try await worker.verifyingKey()
            let request =
                #"{"model":"local","max_tokens":64,"temperature":0.5,"messages":[{"role":"user","content":"Hi there"}]}"#
            let reply = try await worker.client.send(.POST, "/v1/messages", body: .json(request))
            #expect(reply.status == 200)
            let body = try reply.json
            #expect(body["type"] as? String == "message")
            #expect(body["role"] as? String == "assistant")
            #expect(body["stop_reason"] as? String == "end_turn")
            let block = try #require((body["content"] as? [[String: Any]])?.first)
            #expect(block["type"] as? String == "text")
            let text = try #require(block["text"] as? String)
            #expect(text == "You said: Hi there")
            // The chat form of the same request, written out by hand (docs/wire-contracts.md §3.5).
            let chatForm =
                #"{"model":"local","messages":[{"role":"user","content":"Hi there"}],"max_tokens":64,"temperature":0.5}"#
            try SignedFields(body).check(request: chatForm, kind: .chat, output: OutputHash.text(text), key: key)
        }
    }

    @Test("/v1/messages, stream: named events, the signature top-level in message_delta, then message_stop")
    func messagesStream() async throws {
        try await withWorker { worker in
            let key = try await worker.verifyingKey()
            let request =
                #"{"model":"local","max_tokens":64,"temperature":0.5,"stream":true,"messages":[{"role":"user","content":"Hi there"}]}"#
            let reply = try await worker.client.send(.POST, "/v1/messages", body: .json(request))
            #expect(reply.status == 200)
            let events = SSEFrames.events(in: reply.text)
            #expect(events.first == "message_start")
            #expect(events.last == "message_stop")
            #expect(!events.contains("error"))
            let payloads = try reply.sseData.map(jsonObject)
            let text = payloads.compactMap { ($0["delta"] as? [String: Any])?["text"] as? String }.joined()
            #expect(text == "You said: Hi there")
            let signed = payloads.filter { $0["tee_signature"] != nil }
            #expect(signed.count == 1)
            let delta = try #require(signed.first)
            #expect(delta["type"] as? String == "message_delta")
            let chatForm =
                #"{"model":"local","messages":[{"role":"user","content":"Hi there"}],"max_tokens":64,"temperature":0.5}"#
            try SignedFields(delta).check(request: chatForm, kind: .chat, output: OutputHash.text(text), key: key)
        }
    }

    @Test("/v1/completions: the legacy text completion is signed over the completions projection")
    func completions() async throws {
        try await withWorker { worker in
            let key = try await worker.verifyingKey()
            let request = #"{"model":"local","prompt":"Say this","max_tokens":20}"#
            let reply = try await worker.client.send(.POST, "/v1/completions", body: .json(request))
            #expect(reply.status == 200)
            let body = try reply.json
            #expect(body["object"] as? String == "text_completion")
            let text = try #require((body["choices"] as? [[String: Any]])?.first?["text"] as? String)
            #expect(text == "You said: Say this")
            try SignedFields(body).check(request: request, kind: .completions, output: OutputHash.text(text), key: key)
            // The completions projection differs from the chat one (absent temperature is 1.0).
            let asChat = try CanonicalRequest(
                kind: .chat,
                body: try JSONParser().parse(
                    Array(#"{"model":"local","messages":[{"role":"user","content":"Say this"}],"max_tokens":20}"#.utf8))
            )
            #expect(try SignedFields(body).signature.requestHash != asChat.hash)
        }
    }

    @Test("/v1/messages/count_tokens: ceil(bytes / 4) plus 4 per message, unsigned")
    func countTokens() async throws {
        try await withWorker { worker in
            let text = String(repeating: "a", count: 401)
            let reply = try await worker.client.send(
                .POST, "/v1/messages/count_tokens",
                body: .json(#"{"model":"local","messages":[{"role":"user","content":"\#(text)"}]}"#))
            #expect(reply.status == 200)
            let body = try reply.json
            #expect((body["input_tokens"] as? NSNumber)?.intValue == 101 + 4)
            #expect(teeFieldNames.allSatisfy { body[$0] == nil })
        }
    }
}
