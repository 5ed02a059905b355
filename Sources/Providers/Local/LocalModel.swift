import GatewayCore

/// The built-in model (id `local`): deterministic, offline, keyless — the embedded default and
/// the test double for the whole stack.
///
/// What it answers is ``LocalAnswer``'s rules. It streams one token per event (tool-call
/// arguments too, in token-sized fragments) and waits ``tokenDelay`` before each, so tests can
/// hold a stream open and observe cancellation; usage follows the finish event.
public struct LocalModel: ChatProvider {
    public var tokenDelay: Duration

    public init(tokenDelay: Duration = .zero) { self.tokenDelay = tokenDelay }

    public func complete(_ request: JSONObject, route: ModelRoute, apiKey: String?) -> AsyncThrowingStream<CompletionEvent, Error> {
        let answer: LocalAnswer
        do throws(ProviderError) { answer = try LocalAnswer(request) } catch { return .failing(error) }
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: CompletionEvent.self)
        let delay = tokenDelay
        let task = Task {
            do {
                var events: [CompletionEvent] = []
                let finish: FinishReason
                switch answer.body {
                case .text(let tokens, let reason):
                    events = tokens.map(CompletionEvent.text)
                    finish = reason
                case .toolCall(let id, let name, let pieces):
                    events = [.toolCall(index: 0, id: id, name: name, arguments: "")]
                        + pieces.map { .toolCall(index: 0, id: nil, name: nil, arguments: $0) }
                    finish = .toolCalls
                }
                for event in events {
                    if delay > .zero { try await Task.sleep(for: delay) }
                    try Task.checkCancellation()
                    continuation.yield(event)
                }
                continuation.yield(.finish(finish))
                continuation.yield(.usage(TokenUsage(promptTokens: answer.promptTokens, completionTokens: answer.completionTokens)))
                continuation.finish()
            } catch {
                continuation.finish(throwing: ProviderError.cancelled)
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }
}
