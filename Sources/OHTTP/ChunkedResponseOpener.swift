/// Reads `message/ohttp-chunked-res` incrementally from arbitrary byte splits.
///
/// `feed` returns each non-final chunk's plaintext as soon as it is complete and authentic.
/// The final chunk runs to the end of the stream, so it is opened by `finish`, which the
/// caller must call when the transport ends: only a successful `finish` proves the response is
/// complete. A stream that ends before the final-chunk marker fails with `missingFinalChunk`;
/// bytes appended after the final chunk become part of it and fail authentication. The first
/// error is sticky: later calls throw it again.
public struct ChunkedResponseOpener: Sendable {
    /// Default bound on one sealed chunk, including the final one, which is buffered whole.
    public static let defaultMaxChunkLength = 1 << 20

    private enum State {
        case awaitingNonce
        case chunks(ResponseKeys)
        case finalChunk(ResponseKeys)
        case finished
        case failed(ResponseError)
    }

    private let context: ResponseContext
    private let maxChunkLength: Int
    private var state = State.awaitingNonce
    private var buffer: [UInt8] = []
    /// Stream offset of `buffer[0]`, for error messages.
    private var bufferOffset = 0
    private var counter: UInt64 = 0

    public init(context: ResponseContext, maxChunkLength: Int = defaultMaxChunkLength) {
        self.context = context
        self.maxChunkLength = maxChunkLength
    }

    public mutating func feed(_ bytes: some Sequence<UInt8>) throws(ResponseError) -> [[UInt8]] {
        do {
            try checkUsable()
            buffer.append(contentsOf: bytes)
            return try drain()
        } catch {
            state = .failed(error)
            throw error
        }
    }

    /// Ends the stream: opens and returns the final chunk's plaintext.
    public mutating func finish() throws(ResponseError) -> [UInt8] {
        do {
            try checkUsable()
            let plaintext = try openFinal()
            state = .finished
            return plaintext
        } catch {
            state = .failed(error)
            throw error
        }
    }

    private func checkUsable() throws(ResponseError) {
        switch state {
        case .finished: throw .alreadyFinished
        case .failed(let error): throw error
        case .awaitingNonce, .chunks, .finalChunk: return
        }
    }

    private mutating func drain() throws(ResponseError) -> [[UInt8]] {
        var plaintexts: [[UInt8]] = []
        var position = 0
        defer { consume(position) }
        while true {
            switch state {
            case .awaitingNonce:
                let length = context.suite.responseNonceLength
                guard buffer.count - position >= length else { return plaintexts }
                state = .chunks(
                    ResponseKeys(
                        secret: context.chunkedResponseSecret, encapsulatedKey: context.encapsulatedKey,
                        responseNonce: Array(buffer[position..<position + length]), aead: context.suite.aead))
                position += length
            case .chunks(let keys):
                // An incomplete length prefix just means more bytes are on the way.
                guard let prefix = try? QUICVarint.decode(buffer, at: position) else { return plaintexts }
                let (length, lengthSize) = prefix
                if length == 0 {
                    position += lengthSize
                    state = .finalChunk(keys)
                    continue
                }
                try checkChunkLength(length, offset: bufferOffset + position)
                guard UInt64(buffer.count - position - lengthSize) >= length else { return plaintexts }
                let start = position + lengthSize
                let end = start + Int(length)
                plaintexts.append(
                    try keys.open(
                        Array(buffer[start..<end]), nonce: keys.chunkNonce(counter), aad: [],
                        chunk: Int(truncatingIfNeeded: counter)))
                counter += 1
                position = end
            case .finalChunk:
                let length = buffer.count - position
                guard length <= maxChunkLength else {
                    throw .chunkTooLarge(length: UInt64(length), limit: maxChunkLength, offset: bufferOffset + position)
                }
                return plaintexts
            case .finished, .failed:
                return plaintexts
            }
        }
    }

    private func checkChunkLength(_ length: UInt64, offset: Int) throws(ResponseError) {
        guard length <= UInt64(maxChunkLength) else {
            throw .chunkTooLarge(length: length, limit: maxChunkLength, offset: offset)
        }
        guard length >= UInt64(context.suite.aead.tagLength) else {
            throw .chunkTooShort(length: length, minimum: context.suite.aead.tagLength, offset: offset)
        }
    }

    private mutating func openFinal() throws(ResponseError) -> [UInt8] {
        switch state {
        case .awaitingNonce:
            throw .truncated(
                Truncation(
                    field: "response nonce", offset: bufferOffset, needed: context.suite.responseNonceLength,
                    available: buffer.count))
        case .chunks:
            throw .missingFinalChunk(offset: bufferOffset + buffer.count)
        case .finalChunk(let keys):
            guard buffer.count >= keys.aead.tagLength else {
                throw .truncated(
                    Truncation(
                        field: "final chunk", offset: bufferOffset, needed: keys.aead.tagLength,
                        available: buffer.count))
            }
            return try keys.open(
                buffer, nonce: keys.chunkNonce(counter), aad: Array("final".utf8),
                chunk: Int(truncatingIfNeeded: counter))
        case .finished, .failed:
            throw .alreadyFinished
        }
    }

    private mutating func consume(_ count: Int) {
        guard count > 0 else { return }
        buffer.removeFirst(count)
        bufferOffset += count
    }
}
