import Foundation
import Testing

/// Refusals before any provider is called: each is JSON in the route's dialect with the status
/// the architecture assigns.
@Suite("request errors")
struct RequestErrorTests {
    /// `error` of an OpenAI-shaped error body.
    func openAIError(_ reply: HTTPReply) throws -> [String: Any] {
        #expect(reply.header("content-type") == "application/json")
        return try #require(try reply.json["error"] as? [String: Any], "not an OpenAI error: \(reply.text)")
    }

    @Test("broken JSON is a 400 naming line, column and byte offset")
    func brokenJSON() async throws {
        try await withWorker { worker in
            // The '}' after the trailing comma is byte 17 (zero-based), column 18.
            let reply = try await worker.client.send(.POST, "/v1/chat/completions", body: .json(#"{"model":"local",}"#))
            #expect(reply.status == 400)
            let error = try openAIError(reply)
            #expect(error["type"] as? String == "invalid_request_error")
            let message = try #require(error["message"] as? String)
            #expect(message.contains("line 1, column 18 (byte 17)"), "\(message)")

            let anthropic = try await worker.client.send(.POST, "/v1/messages", body: .json("{\n  \"model\": tru"))
            #expect(anthropic.status == 400)
            #expect(try anthropic.json["type"] as? String == "error")
            let anthropicMessage = try #require((try anthropic.json["error"] as? [String: Any])?["message"] as? String)
            #expect(anthropicMessage.contains("line 2"), "\(anthropicMessage)")
        }
    }

    @Test("an unknown model is a 404 listing the supported models, in both dialects")
    func unknownModel() async throws {
        try await withWorker { worker in
            let reply = try await worker.client.send(
                .POST, "/v1/chat/completions",
                body: .json(#"{"model":"gpt-9","messages":[{"role":"user","content":"hi"}]}"#))
            #expect(reply.status == 404)
            let error = try openAIError(reply)
            #expect(error["code"] as? String == "model_not_found")
            #expect(error["param"] as? String == "model")
            let message = try #require(error["message"] as? String)
            #expect(message.contains("'gpt-9'"))
            #expect(
                message.contains("local") && message.contains("gpt-4.1") && message.contains("GET /v1/models"),
                "\(message)")

            let anthropic = try await worker.client.send(
                .POST, "/v1/messages",
                body: .json(#"{"model":"claude-9","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}"#))
            #expect(anthropic.status == 404)
            let body = try anthropic.json
            #expect(body["type"] as? String == "error")
            #expect((body["error"] as? [String: Any])?["type"] as? String == "not_found_error")
        }
    }

    @Test("a text/plain body is a 415")
    func unsupportedMediaType() async throws {
        try await withWorker { worker in
            let reply = try await worker.client.send(
                .POST, "/v1/chat/completions",
                body: .json(#"{"model":"local","messages":[{"role":"user","content":"hi"}]}"#),
                contentType: "text/plain")
            #expect(reply.status == 415)
            let error = try openAIError(reply)
            #expect(error["code"] as? String == "unsupported_media_type")
            #expect((error["message"] as? String)?.contains("text/plain") == true)
        }
    }

    @Test("a body over maximumBodyBytes is a 413, declared by content-length or sent chunked")
    func bodyTooLarge() async throws {
        try await withWorker(configure: { $0.maximumBodyBytes = 1024 }) { worker in
            let small = #"{"model":"local","messages":[{"role":"user","content":"small enough"}]}"#
            let fits = try await worker.client.send(.POST, "/v1/chat/completions", body: .json(small))
            #expect(fits.status == 200)
            let fitsChunked = try await worker.client.send(
                .POST, "/v1/chat/completions", body: .chunked(Array(small.utf8).chunks(ofCount: 16)))
            #expect(fitsChunked.status == 200)

            let large =
                #"{"model":"local","messages":[{"role":"user","content":"\#(String(repeating: "x", count: 2000))"}]}"#
            let declared = try await worker.client.send(.POST, "/v1/chat/completions", body: .json(large))
            #expect(declared.status == 413)
            #expect(try openAIError(declared)["code"] as? String == "request_too_large")
            #expect((try openAIError(declared)["message"] as? String)?.contains("1024") == true)

            let chunked = try await worker.client.send(
                .POST, "/v1/chat/completions", body: .chunked(Array(large.utf8).chunks(ofCount: 300)))
            #expect(chunked.status == 413)
            #expect(try openAIError(chunked)["code"] as? String == "request_too_large")

            let anthropic = try await worker.client.send(
                .POST, "/v1/messages/count_tokens", body: .chunked(Array(large.utf8).chunks(ofCount: 300)))
            #expect(anthropic.status == 413)
            #expect(try anthropic.json["type"] as? String == "error")
        }
    }

    @Test("an unknown path is an OpenAI-shaped 404")
    func unknownPath() async throws {
        try await withWorker { worker in
            let reply = try await worker.client.send(.GET, "/v1/nothing-here")
            #expect(reply.status == 404)
            let error = try openAIError(reply)
            #expect(error["code"] as? String == "unknown_url")
            #expect((error["message"] as? String)?.contains("/v1/nothing-here") == true)
        }
    }

    @Test(
        "a known path with the wrong method is a 405 naming the allowed one",
        arguments: [
            ("GET", "/v1/chat/completions", "POST"), ("POST", "/v1/models", "GET"), ("DELETE", "/health", "GET"),
        ]
    )
    func wrongMethod(method: String, path: String, allowed: String) async throws {
        try await withWorker { worker in
            let reply = try await worker.client.send(.init(rawValue: method), path)
            #expect(reply.status == 405, "\(method) \(path) answered \(reply.status) \(reply.text)")
            #expect(reply.header("allow") == allowed)
            let error = try openAIError(reply)
            #expect(error["code"] as? String == "method_not_allowed")
            #expect((error["message"] as? String)?.contains("use \(allowed)") == true)
        }
    }
}

extension Array {
    /// Consecutive slices of at most `count` elements.
    func chunks(ofCount count: Int) -> [[Element]] {
        stride(from: 0, to: self.count, by: count).map { Array(self[$0..<Swift.min($0 + count, self.count)]) }
    }
}
