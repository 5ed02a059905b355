import Foundation
import GatewayCore
import NIOHTTP1
import Providers
import Testing
import UpstreamMock

/// OpenAI's streaming wire format, for scripting the mock.
enum OpenAIWire {
    static func chunk(_ delta: String, finish: String? = nil) -> String {
        sse(
            #"{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4.1","choices":[{"index":0,"delta":\#(delta),"logprobs":null,"finish_reason":\#(finish.map { "\"\($0)\"" } ?? "null")}],"usage":null}"#
        )
    }
    static let usage = sse(
        #"{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4.1","choices":[],"usage":{"prompt_tokens":10,"completion_tokens":2,"total_tokens":12}}"#
    )
    static let done = sse("[DONE]")

    static let hello: [String] = [
        chunk(#"{"role":"assistant","content":""}"#), chunk(#"{"content":"Hello"}"#), chunk(#"{"content":" world"}"#),
        chunk("{}", finish: "stop"), usage, done,
    ]
    static let errorBody = #"{"error":{"message":"bad things","type":"server_error","param":null,"code":null}}"#
}

/// The worker in front of a provider: keys, status mapping, timeouts, and failures mid-stream.
@Suite("upstream provider behaviour through the worker")
struct UpstreamBehaviourTests {
    static let prompt = "the quick purple prompt 4711"
    static let chat = #"{"model":"gpt-4.1","messages":[{"role":"user","content":"\#(prompt)"}]}"#
    static let chatStream = #"{"model":"gpt-4.1","messages":[{"role":"user","content":"\#(prompt)"}],"stream":true}"#

    @Test("the provider key is sent as a bearer token, the answer is signed, and no log holds key or prompt")
    func keyAndSignature() async throws {
        try await withUpstreamWorker([.sse(OpenAIWire.hello), .sse(OpenAIWire.hello)]) { worker, mock in
            let key = try await worker.verifyingKey()
            let reply = try await worker.client.send(.POST, "/v1/chat/completions", body: .json(Self.chat))
            #expect(reply.status == 200)
            let body = try reply.json
            let content = try #require(
                ((body["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any])?["content"] as? String)
            #expect(content == "Hello world")
            try SignedFields(body).check(request: Self.chat, kind: .chat, output: OutputHash.text(content), key: key)

            let streamed = try await worker.client.send(.POST, "/v1/chat/completions", body: .json(Self.chatStream))
            #expect(streamed.sseData.last == "[DONE]")

            let sent = mock.requests
            #expect(sent.count == 2)
            for request in sent {
                #expect(request.method == "POST")
                #expect(request.uri == "/v1/chat/completions")
                #expect(request.header("authorization") == "Bearer sk-test")
                #expect(try request.json["model"]?.stringValue == "gpt-4.1-2025-04-14")
            }

            let logs = worker.logs.all
            #expect(logs.contains { $0.contains("/v1/chat/completions") }, "the request log line is captured")
            for line in logs {
                #expect(!line.contains("sk-test"), "a log line holds the provider key: \(line)")
                #expect(!line.contains(Self.prompt), "a log line holds the prompt: \(line)")
                #expect(!line.contains("Hello world"), "a log line holds the completion: \(line)")
            }
        }
    }

    @Test("the Anthropic key goes out as x-api-key on a native /v1/messages call")
    func anthropicKey() async throws {
        let answer = #"{"id":"msg_01","type":"message","role":"assistant","model":"claude-sonnet-4-6","content":[{"type":"text","text":"Bonjour"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":5,"output_tokens":2}}"#
        try await withUpstreamWorker([.json(status: 200, answer)]) { worker, mock in
            let key = try await worker.verifyingKey()
            let request =
                #"{"model":"claude-sonnet-4-6","max_tokens":32,"temperature":0.3,"messages":[{"role":"user","content":"\#(Self.prompt)"}]}"#
            let reply = try await worker.client.send(.POST, "/v1/messages", body: .json(request))
            #expect(reply.status == 200)
            let body = try reply.json
            let text = try #require((body["content"] as? [[String: Any]])?.first?["text"] as? String)
            #expect(text == "Bonjour")
            // Native: the request is hashed in its own Anthropic form, the answer as its blocks.
            try SignedFields(body).check(
                request: request, kind: .anthropicMessages,
                output: AnthropicProjection.outputHash(content: [["type": "text", "text": "Bonjour"]]), key: key)
            let sent = try #require(mock.requests.first)
            #expect(sent.uri == "/v1/messages")
            #expect(sent.header("x-api-key") == "sk-test")
            #expect(sent.header("authorization") == nil)
            #expect(try sent.json["stream"] == nil, "a non-streamed native request is sent as written")
            #expect(!worker.logs.all.contains { $0.contains("sk-test") || $0.contains(Self.prompt) })
        }
    }

    @Test("an upstream 429 is passed through with its retry-after")
    func rateLimited() async throws {
        try await withUpstreamWorker([.json(status: 429, OpenAIWire.errorBody, headers: [("retry-after", "7")])]) {
            worker, _ in
            let reply = try await worker.client.send(.POST, "/v1/chat/completions", body: .json(Self.chat))
            #expect(reply.status == 429)
            #expect(reply.header("retry-after") == "7")
            let error = try #require(try reply.json["error"] as? [String: Any])
            #expect(error["type"] as? String == "rate_limit_error")
            #expect(teeFieldNames.allSatisfy { (try? reply.json[$0]) == nil })
        }
    }

    @Test("an upstream 429 on a stream request is still a 429, not a 200 with an error event")
    func rateLimitedStream() async throws {
        try await withUpstreamWorker([.json(status: 429, OpenAIWire.errorBody, headers: [("retry-after", "7")])]) {
            worker, _ in
            let reply = try await worker.client.send(.POST, "/v1/chat/completions", body: .json(Self.chatStream))
            #expect(reply.status == 429, "answered \(reply.status): \(reply.text)")
            #expect(reply.header("retry-after") == "7")
            #expect(!reply.text.contains("tee_signature"))
        }
    }

    @Test("an upstream 500 is a 502 carrying the provider's message")
    func serverError() async throws {
        try await withUpstreamWorker([.json(status: 500, OpenAIWire.errorBody)]) { worker, _ in
            let reply = try await worker.client.send(.POST, "/v1/chat/completions", body: .json(Self.chat))
            #expect(reply.status == 502)
            let error = try #require(try reply.json["error"] as? [String: Any])
            #expect(error["code"] as? String == "upstream_error")
            #expect((error["message"] as? String)?.contains("bad things") == true)
            #expect(!reply.text.contains("tee_signature"))
        }
    }

    @Test("an upstream that goes silent past the read timeout is a 504, and its connection is closed")
    func readTimeout() async throws {
        try await withUpstreamWorker(
            [.sse([], then: [.hang])], upstream: UpstreamConfiguration(readTimeout: .milliseconds(300))
        ) { worker, mock in
            let reply = try await worker.client.send(.POST, "/v1/chat/completions", body: .json(Self.chat))
            #expect(reply.status == 504)
            let error = try #require(try reply.json["error"] as? [String: Any])
            #expect(error["code"] as? String == "upstream_timeout")
            #expect(await mock.waitForClientClose())
        }
    }

    @Test("an upstream connection dropped mid-stream ends the client stream with an error event and no signature")
    func midStreamFailure() async throws {
        let partial = [
            OpenAIWire.chunk(#"{"role":"assistant","content":"Hello"}"#), OpenAIWire.chunk(#"{"content":" wor"}"#),
        ]
        try await withUpstreamWorker([.sse(partial, then: [.disconnect])]) { worker, _ in
            let reply = try await worker.client.send(.POST, "/v1/chat/completions", body: .json(Self.chatStream))
            #expect(reply.status == 200)
            let frames = reply.sseData
            #expect(!frames.contains("[DONE]"))
            let payloads = try frames.map(jsonObject)
            let shown = payloads.compactMap {
                (($0["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any])?["content"] as? String
            }
            #expect(shown.joined() == "Hello wor")
            let last = try #require(payloads.last)
            let error = try #require(
                last["error"] as? [String: Any], "the stream does not end with an error: \(reply.text)")
            #expect(error["type"] as? String == "server_error")
            for name in teeFieldNames { #expect(!reply.text.contains(name), "\(name) in a failed stream") }
        }
    }

    @Test("an upstream connection dropped mid-answer on a non-stream request is a 502 without signature")
    func midAnswerFailure() async throws {
        let partial = [OpenAIWire.chunk(#"{"role":"assistant","content":"Hello"}"#)]
        try await withUpstreamWorker([.sse(partial, then: [.disconnect])]) { worker, _ in
            let reply = try await worker.client.send(.POST, "/v1/chat/completions", body: .json(Self.chat))
            #expect(reply.status == 502)
            for name in teeFieldNames { #expect(!reply.text.contains(name)) }
        }
    }

    /// Reads the stream until "Hello" arrives, then closes the connection with the stream unfinished.
    func readHelloThenDisconnect(_ worker: WorkerFixture, _ mock: MockUpstream) async throws {
        let received = try await worker.client.exchange(.POST, "/v1/chat/completions", body: .json(Self.chatStream)) {
            head, parts in
            #expect(head.status == .ok)
            var received = ""
            while !received.contains("Hello"), let part = try await parts.next() {
                if case .body(let buffer) = part { received += String(buffer: buffer) }
            }
            #expect(!mock.clientClosedHungConnection, "the upstream connection closed before the client left")
            return received
        }
        #expect(received.contains("Hello"))
    }

    @Test("a client that disconnects mid-stream cancels the upstream request at the provider's next token")
    func clientDisconnectCancelsUpstream() async throws {
        let reply = MockUpstream.Reply.sse(
            [OpenAIWire.chunk(#"{"role":"assistant","content":"Hello"}"#)],
            then: [.awaitRelease, .bytes(OpenAIWire.chunk(#"{"content":" world"}"#)), .hang])
        try await withUpstreamWorker([reply]) { worker, mock in
            try await readHelloThenDisconnect(worker, mock)
            mock.release()  // the provider produces another token after the client has gone
            #expect(await mock.waitForClientClose(), "the upstream connection stayed open after the client left")
        }
    }

    /// The worker only learns that a client left when a write fails, so while the provider is
    /// silent (a reasoning model thinking) keep-alive comments are what make it notice.
    @Test("a client that disconnects while the provider is silent cancels the upstream request")
    func clientDisconnectDuringSilenceCancelsUpstream() async throws {
        let reply = MockUpstream.Reply.sse(
            [OpenAIWire.chunk(#"{"role":"assistant","content":"Hello"}"#)], then: [.hang])
        try await withUpstreamWorker([reply], streamKeepAlive: .milliseconds(100)) { worker, mock in
            try await readHelloThenDisconnect(worker, mock)
            #expect(
                await mock.waitForClientClose(timeout: .seconds(10)),
                "the upstream connection stayed open after the client left")
        }
    }

    @Test("a silent provider's stream carries keep-alive comments and nothing else until it resumes")
    func silentStreamsGetKeepAliveComments() async throws {
        let reply = MockUpstream.Reply.sse(
            [OpenAIWire.chunk(#"{"role":"assistant","content":"Hello"}"#)],
            then: [.awaitRelease, .bytes(OpenAIWire.chunk(#"{"content":" world"}"#)), .hang])
        try await withUpstreamWorker([reply], streamKeepAlive: .milliseconds(100)) { worker, mock in
            let received = try await worker.client.exchange(.POST, "/v1/chat/completions", body: .json(Self.chatStream)) {
                head, parts in
                #expect(head.status == .ok)
                var received = ""
                while !received.contains(": keep-alive\n\n"), let part = try await parts.next() {
                    if case .body(let buffer) = part { received += String(buffer: buffer) }
                }
                #expect(received.contains("Hello"))
                mock.release()
                while !received.contains("world"), let part = try await parts.next() {
                    if case .body(let buffer) = part { received += String(buffer: buffer) }
                }
                return received
            }
            let frames = received.components(separatedBy: "\n\n").filter { !$0.isEmpty }
            #expect(frames.allSatisfy { $0.hasPrefix("data: ") || $0 == ": keep-alive" }, "\(frames)")
            #expect(frames.contains { $0.contains(" world") })
        }
    }
}
