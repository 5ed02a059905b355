import GatewayCore

/// Turns provider events into one dialect's SSE bytes, one call per event, so the worker can
/// flush each piece as it arrives.
///
/// The worker's loop: `render` every event and write what it returns; at the end ask key-service
/// to sign `accumulator.outputHash` and write `finish(signature)`; on any failure (upstream error,
/// a `render` that throws, a signing error) write `fail(error)` instead and close. Nothing is
/// signed over a partial answer: the signature only ever appears in `finish`.
public protocol StreamRenderer: Sendable {
    /// Everything rendered so far; its `outputHash` is what the signature must cover.
    var accumulator: CompletionAccumulator { get }

    /// Frames for one event (possibly none). Throws when the event cannot be shown faithfully in
    /// this dialect, so the client never sees less than what would be signed.
    mutating func render(_ event: CompletionEvent) throws(APIError) -> [UInt8]

    /// The closing frames: finish reason, usage and the `tee_*` fields.
    mutating func finish(_ signature: TEESignature) -> [UInt8]

    /// The dialect's mid-stream error frame; the stream ends after it, unsigned.
    func fail(_ error: APIError) -> [UInt8]
}

/// Response ids in each vendor's style, random so they never reveal request order.
public enum ResponseID {
    public static func make(prefix: String) -> String {
        let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
        var generator = SystemRandomNumberGenerator()
        return prefix + String((0..<24).map { _ in alphabet[Int(generator.next(upperBound: UInt32(alphabet.count)))] })
    }

    /// `chatcmpl-…`, `cmpl-…` or `msg_…`.
    public static func make(for route: InferenceRequest.Route) -> String {
        switch route {
        case .chatCompletions: make(prefix: "chatcmpl-")
        case .completions: make(prefix: "cmpl-")
        case .messages: make(prefix: "msg_")
        }
    }
}
