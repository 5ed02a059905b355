import GatewayCore
import Providers
import UpstreamMock

/// What a provider stream produced: its events, then the error that ended it (if any).
struct Outcome {
    var events: [CompletionEvent]
    var error: ProviderError?

    var text: String { events.compactMap { if case .text(let t) = $0 { t } else { nil } }.joined() }
    var accumulator: CompletionAccumulator {
        var accumulator = CompletionAccumulator()
        events.forEach { accumulator.add($0) }
        return accumulator
    }
    var finish: FinishReason? { accumulator.finishReason }
    var usage: TokenUsage? { accumulator.usage }
}

func collect(_ stream: AsyncThrowingStream<CompletionEvent, Error>) async -> Outcome {
    var events: [CompletionEvent] = []
    do {
        for try await event in stream { events.append(event) }
        return Outcome(events: events, error: nil)
    } catch let error as ProviderError {
        return Outcome(events: events, error: error)
    } catch {
        return Outcome(events: events, error: .malformedUpstream(reason: "not a ProviderError: \(error)"))
    }
}

func chatRequest(_ json: String) throws -> JSONObject {
    guard let object = try JSONParser().parse(json).objectValue else { throw TestError("request is not an object") }
    return object
}

struct TestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A registry whose built-in providers all live on `mock`.
func registry(_ mock: MockUpstream) -> ModelRegistry {
    var urls = ProviderBaseURLs()
    urls.openAI = mock.baseURL + "/v1"
    urls.anthropic = mock.baseURL + "/v1"
    urls.google = mock.baseURL + "/v1beta"
    urls.xAI = mock.baseURL + "/xai/v1"
    urls.byteDance = mock.baseURL + "/api/v3"
    return ModelRegistry(baseURLs: urls, configured: [
        ConfiguredModel(id: "my-llama", apiName: "llama-3.1-8b", providerName: "vllm", baseURL: mock.baseURL + "/compat/v1/", keyName: nil)
    ])
}

/// Runs `body` against a mock upstream with a fresh client, and always tears both down.
func withMock<T>(
    _ replies: [MockUpstream.Reply], configuration: UpstreamConfiguration = UpstreamConfiguration(),
    _ body: (MockUpstream, ProviderRouter, ModelRegistry) async throws -> T
) async throws -> T {
    let mock = try await MockUpstream.start(replies)
    let http = UpstreamHTTPClient(configuration: configuration)
    do {
        let result = try await body(mock, ProviderRouter(http: http), registry(mock))
        try await http.shutdown()
        await mock.stop()
        return result
    } catch {
        try? await http.shutdown()
        await mock.stop()
        throw error
    }
}
