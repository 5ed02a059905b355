import NIOCore

/// The bookkeeping of a `KeyServiceClient`, kept behind its mutex: the current connection and
/// every request between "registered" and "answered". Methods only change state and return
/// the continuations to resume, which the caller resumes after releasing the lock.
struct ClientState {
    typealias Writer = NIOAsyncChannelOutboundWriter<ByteBuffer>
    typealias Continuation = CheckedContinuation<KeyServiceResponse, any Error>

    enum Lifecycle {
        case idle
        case running
        case finished
    }

    enum Connection {
        case disconnected(lastError: String?)
        case connected(Writer)
    }

    private struct Request {
        let operation: KeyServiceOperation
        /// Kept until the request is written, so a request made while disconnected goes out as
        /// soon as the next connection is up.
        var unsentFrame: ByteBuffer?
        var continuation: Continuation?
        var outcome: Result<KeyServiceResponse, KeyServiceClientError>?
    }

    enum Registration {
        /// Connected: the caller writes the frame itself.
        case write(Writer)
        /// Not connected: the frame goes out when `run()` connects.
        case queued
        case refused(KeyServiceClientError)
    }

    private(set) var lifecycle = Lifecycle.idle
    private(set) var connection = Connection.disconnected(lastError: nil)
    private var nextID: UInt64 = 1
    private var requests: [UInt64: Request] = [:]

    mutating func allocateID() -> UInt64 {
        defer { nextID = nextID == UInt64.max ? 1 : nextID + 1 }
        return nextID
    }

    mutating func register(_ id: UInt64, _ operation: KeyServiceOperation, frame: ByteBuffer) -> Registration {
        if lifecycle == .finished { return .refused(.shutDown(operation)) }
        switch connection {
        case .connected(let writer):
            requests[id] = Request(operation: operation, unsentFrame: nil)
            return .write(writer)
        case .disconnected:
            requests[id] = Request(operation: operation, unsentFrame: frame)
            return .queued
        }
    }

    /// Stores the continuation, or returns the outcome if it is already known (answered,
    /// failed, or removed by cancellation).
    mutating func wait(_ id: UInt64, with continuation: Continuation) -> Result<KeyServiceResponse, any Error>? {
        guard var request = requests[id] else { return .failure(CancellationError()) }
        if let outcome = request.outcome {
            requests[id] = nil
            return outcome.mapError { $0 }
        }
        request.continuation = continuation
        requests[id] = request
        return nil
    }

    /// Records the outcome of a request; returns its continuation if one is waiting.
    mutating func complete(_ id: UInt64, with outcome: Result<KeyServiceResponse, KeyServiceClientError>) -> Continuation? {
        guard var request = requests[id], request.outcome == nil else { return nil }
        if let continuation = request.continuation {
            requests[id] = nil
            return continuation
        }
        request.outcome = outcome
        requests[id] = request
        return nil
    }

    /// Forgets a request whose caller gave up; returns its continuation if one is waiting.
    mutating func remove(_ id: UInt64) -> Continuation? {
        requests.removeValue(forKey: id)?.continuation
    }

    func operation(of id: UInt64) -> KeyServiceOperation? {
        requests[id]?.operation
    }

    mutating func start() -> Bool {
        guard lifecycle == .idle else { return false }
        lifecycle = .running
        return true
    }

    /// Returns the frames of requests made while disconnected, now to be written.
    mutating func connected(_ writer: Writer) -> [ByteBuffer] {
        connection = .connected(writer)
        var frames: [ByteBuffer] = []
        for (id, request) in requests.sorted(by: { $0.key < $1.key }) {
            guard let frame = request.unsentFrame else { continue }
            requests[id]?.unsentFrame = nil
            frames.append(frame)
        }
        return frames
    }

    /// Fails every request already sent on the lost connection; unsent ones stay queued.
    mutating func disconnected(reason: String) -> [(Continuation, KeyServiceClientError)] {
        connection = .disconnected(lastError: reason)
        return failAll(where: { $0.unsentFrame == nil }) { .connectionLost($0, reason: reason) }
    }

    /// Fails every pending request: `run()` is over and nothing will be sent or answered.
    mutating func finish() -> [(Continuation, KeyServiceClientError)] {
        lifecycle = .finished
        connection = .disconnected(lastError: "the client has shut down")
        return failAll(where: { _ in true }) { .shutDown($0) }
    }

    private mutating func failAll(
        where shouldFail: (Request) -> Bool,
        _ error: (KeyServiceOperation) -> KeyServiceClientError
    ) -> [(Continuation, KeyServiceClientError)] {
        var waiting: [(Continuation, KeyServiceClientError)] = []
        for (id, request) in requests where request.outcome == nil && shouldFail(request) {
            if let continuation = request.continuation {
                requests[id] = nil
                waiting.append((continuation, error(request.operation)))
            } else {
                requests[id]?.outcome = .failure(error(request.operation))
            }
        }
        return waiting
    }
}
