/// Failures sealing or opening `message/ohttp-res` and `message/ohttp-chunked-res`.
public enum ResponseError: Error, Hashable, Sendable, CustomStringConvertible, TruncationReporting {
    case truncated(Truncation)
    /// The AEAD rejected a response or chunk: wrong context, tampering, reordering or a cut.
    /// `chunk` is the chunk index for chunked responses.
    case authenticationFailed(chunk: Int?)
    case chunkTooLarge(length: UInt64, limit: Int, offset: Int)
    /// A non-final chunk shorter than the AEAD tag cannot be a sealed chunk.
    case chunkTooShort(length: UInt64, minimum: Int, offset: Int)
    /// The stream ended before the zero-length marker that introduces the final chunk.
    case missingFinalChunk(offset: Int)
    /// `seal`, `sealFinal`, `feed` or `finish` was called after the final chunk.
    case alreadyFinished
    /// The AEAD refused the derived key or nonce; a validated `ResponseContext` never causes it.
    case sealingFailed(String)

    public var description: String {
        switch self {
        case .truncated(let truncation):
            "OHTTP response: \(truncation)"
        case .authenticationFailed(let chunk?):
            "OHTTP response: chunk \(chunk) failed authentication (tampered, reordered, cut short, or sealed for another request)"
        case .authenticationFailed(nil):
            "OHTTP response failed authentication (tampered, cut short, or sealed for another request)"
        case .chunkTooLarge(let length, let limit, let offset):
            "OHTTP chunked response: chunk at offset \(offset) is \(length) bytes, limit is \(limit)"
        case .chunkTooShort(let length, let minimum, let offset):
            "OHTTP chunked response: chunk at offset \(offset) is \(length) bytes, a sealed chunk has at least \(minimum)"
        case .missingFinalChunk(let offset):
            "OHTTP chunked response ended at offset \(offset) without a final chunk (stream truncated)"
        case .alreadyFinished:
            "OHTTP chunked response already finished with its final chunk"
        case .sealingFailed(let reason):
            "OHTTP response sealing failed: \(reason)"
        }
    }
}
