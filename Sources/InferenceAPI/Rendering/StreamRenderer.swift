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
