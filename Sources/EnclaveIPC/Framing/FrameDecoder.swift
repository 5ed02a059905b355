import NIOCore

/// Splits a byte stream into frames: a u32 big-endian payload length, then the payload.
///
/// The length is checked against `maximumFrameSize` as soon as the 4 prefix bytes arrive, so a
/// peer announcing a huge frame is refused before anything is buffered for it.
public struct FrameDecoder: NIOSingleStepByteToMessageDecoder {
    public typealias InboundOut = ByteBuffer

    public let maximumFrameSize: Int

    public init(maximumFrameSize: Int = Framing.defaultMaximumFrameSize) {
        self.maximumFrameSize = maximumFrameSize
    }

    public mutating func decode(buffer: inout ByteBuffer) throws -> ByteBuffer? {
        guard let length = buffer.getInteger(at: buffer.readerIndex, endianness: .big, as: UInt32.self) else {
            return nil
        }
        guard length > 0 else { throw FramingError.emptyFrame }
        guard length <= maximumFrameSize else {
            throw FramingError.frameTooLarge(length: Int(length), maximum: maximumFrameSize)
        }
        guard buffer.readableBytes - Framing.prefixSize >= Int(length) else { return nil }
        buffer.moveReaderIndex(forwardBy: Framing.prefixSize)
        return buffer.readSlice(length: Int(length))
    }

    /// At end of stream, bytes that do not form a whole frame are an error, never dropped.
    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> ByteBuffer? {
        if let frame = try decode(buffer: &buffer) { return frame }
        let leftover = buffer.readableBytes
        guard leftover > 0 else { return nil }
        guard leftover >= Framing.prefixSize,
            let length = buffer.getInteger(at: buffer.readerIndex, endianness: .big, as: UInt32.self)
        else {
            throw FramingError.truncatedHeader(receivedBytes: leftover)
        }
        throw FramingError.truncatedPayload(expectedBytes: Int(length), receivedBytes: leftover - Framing.prefixSize)
    }
}
