/// Why a `KeyServiceClient` call failed. `server` carries the key service's own typed refusal
/// (whose `code.httpStatus` a front end can answer with); every other case is a transport or
/// protocol problem on the way there.
public enum KeyServiceClientError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The key service answered with a typed error.
    case server(KeyServiceError)
    /// No response within the configured request timeout. `detail` says whether the client was
    /// connected and, if not, the last connection error.
    case timeout(KeyServiceOperation, after: Duration, detail: String)
    /// The connection dropped after the request was sent. It is not retried automatically:
    /// the key service may have acted on it (an injection counter may be consumed).
    case connectionLost(KeyServiceOperation, reason: String)
    /// The response did not decode, or had the type of another operation.
    case invalidResponse(KeyServiceOperation, reason: String)
    /// The request could not be sent as one frame (for example, larger than the frame limit).
    case invalidRequest(KeyServiceOperation, reason: String)
    /// The calling task was cancelled.
    case cancelled(KeyServiceOperation)
    /// `run()` has returned; this client no longer connects.
    case shutDown(KeyServiceOperation)
    /// `run()` was called while another `run()` of the same client was active.
    case alreadyRunning

    public var description: String {
        switch self {
        case .server(let error):
            return "key service refused the request: \(error)"
        case .timeout(let operation, let after, let detail):
            return "key-service \(operation) timed out after \(after): \(detail)"
        case .connectionLost(let operation, let reason):
            return "key-service \(operation) failed: connection lost after sending (\(reason)); not retried"
        case .invalidResponse(let operation, let reason):
            return "key-service \(operation) got an invalid response: \(reason)"
        case .invalidRequest(let operation, let reason):
            return "key-service \(operation) request could not be sent: \(reason)"
        case .cancelled(let operation):
            return "key-service \(operation) was cancelled"
        case .shutDown(let operation):
            return "key-service \(operation) failed: the client has shut down (run() returned)"
        case .alreadyRunning:
            return "KeyServiceClient.run() is already running; call it once per client"
        }
    }
}
