/// A length-prefixed stream that cannot be read or written. After any of these the stream is
/// out of sync, so the connection is closed rather than resynchronised.
public enum FramingError: Error, Hashable, Sendable, CustomStringConvertible {
    case frameTooLarge(length: Int, maximum: Int)
    /// A length prefix of 0: no message is empty, so it signals a broken or hostile peer.
    case emptyFrame
    /// The peer closed the connection inside the 4-byte length prefix.
    case truncatedHeader(receivedBytes: Int)
    /// The peer closed the connection before sending the whole payload.
    case truncatedPayload(expectedBytes: Int, receivedBytes: Int)

    public var description: String {
        switch self {
        case .frameTooLarge(let length, let maximum):
            return "frame of \(length) bytes exceeds the maximum frame size of \(maximum) bytes"
        case .emptyFrame:
            return "frame length prefix is 0; every frame must carry at least one byte"
        case .truncatedHeader(let received):
            return "connection closed after \(received) of the 4 length-prefix bytes"
        case .truncatedPayload(let expected, let received):
            return "connection closed after \(received) of \(expected) frame payload bytes"
        }
    }
}
