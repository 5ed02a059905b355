/// Writes `message/ohttp-chunked-res` (draft-ietf-ohai-chunked-ohttp-08):
/// `response_nonce ‖ (varint(len) ‖ sealed_i)* ‖ varint(0) ‖ sealed_final`.
///
/// Chunk `i` is sealed with nonce `aead_nonce XOR i` and AAD "" (non-final) or "final" (last),
/// so a relay can neither reorder chunks nor cut the stream without the client noticing. The
/// caller must know which chunk is last before sealing it (the worker keeps one SSE event of
/// look-ahead); exactly one `sealFinal` ends the stream, even with an empty chunk.
public struct ChunkedResponseSealer: Sendable {
    private let keys: ResponseKeys
    private var pendingNonce: [UInt8]
    private var counter: UInt64 = 0
    private var finished = false

    public init(context: ResponseContext) {
        self.init(context: context, responseNonce: randomBytes(context.suite.responseNonceLength))
    }

    /// Fixed-nonce form, for known-answer tests only.
    init(context: ResponseContext, responseNonce: [UInt8]) {
        keys = ResponseKeys(
            secret: context.chunkedResponseSecret, encapsulatedKey: context.encapsulatedKey,
            responseNonce: responseNonce, aead: context.suite.aead)
        pendingNonce = responseNonce
    }

    /// Seals a non-final chunk; the first output also carries the response nonce.
    public mutating func seal(_ chunk: [UInt8]) throws(ResponseError) -> [UInt8] {
        let sealed = try sealNext(chunk, aad: [])
        var out = takeNonce()
        do {
            try QUICVarint.append(UInt64(sealed.count), to: &out)
        } catch {
            throw .sealingFailed(error.description)
        }
        return out + sealed
    }

    /// Seals the last chunk and ends the stream.
    public mutating func sealFinal(_ chunk: [UInt8]) throws(ResponseError) -> [UInt8] {
        let sealed = try sealNext(chunk, aad: Array("final".utf8))
        finished = true
        return takeNonce() + [0] + sealed
    }

    private mutating func sealNext(_ chunk: [UInt8], aad: [UInt8]) throws(ResponseError) -> [UInt8] {
        guard !finished else { throw .alreadyFinished }
        let sealed = try keys.seal(chunk, nonce: keys.chunkNonce(counter), aad: aad)
        counter += 1
        return sealed
    }

    private mutating func takeNonce() -> [UInt8] {
        defer { pendingNonce = [] }
        return pendingNonce
    }
}
