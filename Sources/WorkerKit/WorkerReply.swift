/// What the worker answers, before it becomes an HTTP response: a complete JSON body, or an
/// SSE stream of frames that the HTTP layer writes (and flushes) one by one as they come.
enum WorkerReply: Sendable {
    case json(status: Int, body: [UInt8], retryAfterSeconds: Int? = nil)
    /// Ending the iteration early (the client went away) cancels the task producing the frames,
    /// and with it the provider's generation.
    case eventStream(AsyncStream<[UInt8]>)

    /// Runs `produce` in a task whose frames become the stream. `produce`'s `send` throws
    /// `ClientDisconnected` once nobody reads the stream any more.
    static func eventStream(
        _ produce: @escaping @Sendable (_ send: @Sendable ([UInt8]) throws(ClientDisconnected) -> Void) async -> Void
    ) -> WorkerReply {
        let (frames, continuation) = AsyncStream.makeStream(of: [UInt8].self)
        let producer = Task {
            await produce { frames throws(ClientDisconnected) in
                if case .terminated = continuation.yield(frames) { throw ClientDisconnected() }
            }
            continuation.finish()
        }
        continuation.onTermination = { _ in producer.cancel() }
        return .eventStream(frames)
    }
}

/// A write to the client failed: it went away, so nothing more is sent.
struct ClientDisconnected: Error {}
