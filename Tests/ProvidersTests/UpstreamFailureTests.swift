import GatewayCore
import Testing
import UpstreamMock

@testable import Providers

/// The same failure modes against each HTTP adapter, each through its own wire format.
@Suite struct UpstreamFailureTests {
    enum Dialect: String, CaseIterable, CustomTestStringConvertible {
        case openAI = "gpt-4.1"
        case anthropic = "claude-sonnet-4-6"
        case gemini = "gemini-2.5-flash"

        var testDescription: String { rawValue }

        /// A stream that has delivered "Hello" and is not finished.
        var partial: [String] {
            switch self {
            case .openAI: [OpenAIWire.chunk(#"{"role":"assistant","content":"Hello"}"#)]
            case .anthropic: [AnthropicWire.start(), sse(event: "content_block_start", #"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#),
                              sse(event: "content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}}"#)]
            case .gemini: [GeminiWire.chunk(#"[{"text":"Hello"}]"#)]
            }
        }

        var errorBody: String {
            switch self {
            case .openAI: #"{"error":{"message":"bad things","type":"server_error","param":null,"code":null}}"#
            case .anthropic: #"{"type":"error","error":{"type":"api_error","message":"bad things"}}"#
            case .gemini: #"{"error":{"code":500,"message":"bad things","status":"INTERNAL"}}"#
            }
        }
    }

    func run(_ dialect: Dialect, _ reply: MockUpstream.Reply, configuration: UpstreamConfiguration = UpstreamConfiguration()) async throws -> Outcome {
        try await withMock([reply], configuration: configuration) { _, router, registry in
            await collect(router.complete(try chatRequest(#"{"messages":[{"role":"user","content":"Hi"}]}"#), route: try registry.route(for: dialect.rawValue), apiKey: "k"))
        }
    }

    @Test(arguments: Dialect.allCases)
    func rateLimitPassesRetryAfterThrough(dialect: Dialect) async throws {
        let outcome = try await run(dialect, .json(status: 429, dialect.errorBody, headers: [("retry-after", "7")]))
        #expect(outcome.events.isEmpty)
        #expect(outcome.error == .rateLimited(retryAfter: "7"))
        #expect(outcome.error?.httpStatus == 429)
    }

    @Test(arguments: Dialect.allCases)
    func serverErrorBecomes502WithTheProvidersMessage(dialect: Dialect) async throws {
        let outcome = try await run(dialect, .json(status: 500, dialect.errorBody))
        #expect(outcome.error == .upstreamStatus(code: 500, message: "bad things"))
        #expect(outcome.error?.httpStatus == 502)
    }

    @Test(arguments: Dialect.allCases)
    func clientFaultsPassThroughButRejectedKeysDoNot(dialect: Dialect) async throws {
        let bad = try await run(dialect, .json(status: 400, dialect.errorBody))
        #expect(bad.error == .upstreamStatus(code: 400, message: "bad things") && bad.error?.httpStatus == 400)
        let rejected = try await run(dialect, .json(status: 401, dialect.errorBody))
        #expect(rejected.error?.httpStatus == 502)
        #expect(rejected.error?.description.contains("provider key was rejected") == true)
        #expect(rejected.error?.description.contains("bad things") == false)
    }

    @Test(arguments: Dialect.allCases)
    func readTimeoutAfterDeliveredEvents(dialect: Dialect) async throws {
        let outcome = try await run(
            dialect, .sse(dialect.partial, then: [.pause(.seconds(3))]), configuration: UpstreamConfiguration(readTimeout: .milliseconds(300)))
        #expect(outcome.events == [.text("Hello")])
        #expect(outcome.error == .timeout)
        #expect(outcome.error?.httpStatus == 504)
    }

    @Test(arguments: Dialect.allCases)
    func malformedEventIsReported(dialect: Dialect) async throws {
        let outcome = try await run(dialect, .sse(dialect.partial + ["data: {not json\n\n"]))
        #expect(outcome.events == [.text("Hello")])
        guard case .malformedUpstream(let reason) = outcome.error else {
            Issue.record("expected malformedUpstream, got \(String(describing: outcome.error))")
            return
        }
        #expect(reason.contains("not JSON"))
    }

    @Test(arguments: Dialect.allCases)
    func oversizedEventIsReported(dialect: Dialect) async throws {
        let outcome = try await run(
            dialect, .sse(dialect.partial + ["data: " + String(repeating: "x", count: 5000) + "\n\n"]), configuration: UpstreamConfiguration(maxEventBytes: 4096))
        #expect(outcome.error == .malformedUpstream(reason: SSEParseError.eventTooLarge(limit: 4096).description))
    }

    @Test(arguments: Dialect.allCases)
    func disconnectMidStreamIsAnErrorNotAnEnding(dialect: Dialect) async throws {
        for ending: [MockUpstream.Reply.Piece] in [[.disconnect], []] {
            let outcome = try await run(dialect, .sse(dialect.partial, then: ending))
            #expect(outcome.events == [.text("Hello")])
            #expect(outcome.finish == nil)
            #expect(outcome.error?.httpStatus == 502, "\(String(describing: outcome.error))")
        }
    }

    @Test(arguments: Dialect.allCases)
    func cancellationClosesTheUpstreamConnection(dialect: Dialect) async throws {
        try await withMock([.sse(dialect.partial, then: [.hang])]) { mock, router, registry in
            let stream = router.complete(try chatRequest(#"{"messages":[]}"#), route: try registry.route(for: dialect.rawValue), apiKey: "k")
            let (first, firstContinuation) = AsyncStream.makeStream(of: CompletionEvent.self)
            let consumer = Task {
                for try await event in stream { firstContinuation.yield(event) }
            }
            var iterator = first.makeAsyncIterator()
            #expect(await iterator.next() == .text("Hello"))
            consumer.cancel()
            #expect(await mock.waitForClientClose())
            // A cancelled consumer sees the stream end; nothing after the first event arrives.
            _ = await consumer.result
        }
    }

    @Test func connectionRefusedIsUnreachable() async throws {
        let mock = try await MockUpstream.start([])
        let registry = registry(mock)
        await mock.stop()
        let http = UpstreamHTTPClient(configuration: UpstreamConfiguration(connectTimeout: .seconds(2)))
        let outcome = await collect(ProviderRouter(http: http).complete(try chatRequest(#"{"messages":[]}"#), route: try registry.route(for: "gpt-4.1"), apiKey: "k"))
        try await http.shutdown()
        guard case .unreachable = outcome.error else {
            Issue.record("expected unreachable, got \(String(describing: outcome.error))")
            return
        }
        #expect(outcome.error?.httpStatus == 502)
    }
}
