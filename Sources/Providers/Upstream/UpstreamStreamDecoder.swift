import GatewayCore

/// Turns one provider's server-sent events into ``CompletionEvent``s.
///
/// Decoders are pure state machines so every wire quirk is unit-testable without a socket; the
/// HTTP client drives them.
protocol UpstreamStreamDecoder: Sendable {
    mutating func decode(_ event: SSEEvent) throws(ProviderError) -> [CompletionEvent]
    /// True once the protocol's terminator arrived; the rest of the body is not read.
    var isComplete: Bool { get }
    /// Called when the body ends; throws when it ended before the protocol said it was done (an
    /// upstream disconnect mid-stream), so a partial answer is never mistaken for a whole one.
    mutating func finish() throws(ProviderError) -> [CompletionEvent]
}

/// A POST with a JSON body, ready to send.
struct UpstreamRequest: Sendable {
    var url: String
    var headers: [(String, String)]
    var body: [UInt8]
}

extension JSONObject {
    /// Parses a JSON object from an upstream payload.
    static func upstream(_ text: String, what: String) throws(ProviderError) -> JSONObject {
        let value: JSONValue
        do { value = try JSONParser().parse(text) } catch { throw .malformedUpstream(reason: "\(what) is not JSON (\(error))") }
        guard let object = value.objectValue else {
            throw .malformedUpstream(reason: "\(what) is a JSON \(value.typeName), expected an object")
        }
        return object
    }
}
