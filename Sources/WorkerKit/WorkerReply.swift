import Synchronization

/// What the worker answers, before it becomes an HTTP response: a complete JSON body, or an
/// SSE stream of frames that the HTTP layer writes (and flushes) one by one as they come.
enum WorkerReply: Sendable {
    case json(status: Int, body: [UInt8], retryAfterSeconds: Int? = nil)
    /// Ending the iteration early (the client went away) cancels the task producing the frames,
    /// and with it the provider's generation.
    case eventStream(AsyncStream<[UInt8]>)

    /// An SSE comment: clients skip it, and it carries nothing that is signed.
    static let keepAliveFrame = Array(": keep-alive\n\n".utf8)

    /// Runs `produce` in a task whose frames become the stream. `produce`'s `send` throws
    /// `ClientDisconnected` once nobody reads the stream any more.
    ///
    /// While `produce` is silent for `keepAlive` (a reasoning model thinking before its first
    /// token), a keep-alive comment is sent. The HTTP layer only notices a client that left when
    /// a write fails, so without it a disconnected client would hold the provider's generation
    /// until the next token or the read timeout.
    static func eventStream(
        keepAlive: Duration,
        _ produce: @escaping @Sendable (_ send: @Sendable ([UInt8]) throws(ClientDisconnected) -> Void) async -> Void
    ) -> WorkerReply {
        let (frames, continuation) = AsyncStream.makeStream(of: [UInt8].self)
        let lastSent = LastSent()
        let producer = Task {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    while !Task.isCancelled {
                        let due = lastSent.instant + keepAlive
                        if ContinuousClock.now >= due {
                            if case .terminated = continuation.yield(keepAliveFrame) { return }
                            lastSent.touch()
                            continue
                        }
                        try? await Task.sleep(until: due)
                    }
                }
                await produce { frames throws(ClientDisconnected) in
                    if case .terminated = continuation.yield(frames) { throw ClientDisconnected() }
                    lastSent.touch()
                }
                group.cancelAll()
            }
            continuation.finish()
        }
        continuation.onTermination = { _ in producer.cancel() }
        return .eventStream(frames)
    }
}

/// When the stream last carried a frame.
private final class LastSent: Sendable {
    private let value = Mutex(ContinuousClock.now)

    var instant: ContinuousClock.Instant { value.withLock { $0 } }
    func touch() { value.withLock { $0 = .now } }
}

/// A write to the client failed: it went away, so nothing more is sent.
struct ClientDisconnected: Error {}
