import NIOCore

/// Writes each payload as a u32 big-endian length followed by the payload. Refuses what the
/// peer's `FrameDecoder` would refuse (empty or oversized), so the error surfaces at the sender
/// that caused it instead of as a dropped connection.
public struct FrameEncoder: MessageToByteEncoder {
    public typealias OutboundIn = ByteBuffer

    public let maximumFrameSize: Int

    public init(maximumFrameSize: Int = Framing.defaultMaximumFrameSize) {
        self.maximumFrameSize = maximumFrameSize
    }

    public func encode(data: ByteBuffer, out: inout ByteBuffer) throws {
        let length = data.readableBytes
        guard length > 0 else { throw FramingError.emptyFrame }
        guard length <= maximumFrameSize else {
            throw FramingError.frameTooLarge(length: length, maximum: maximumFrameSize)
        }
        out.reserveCapacity(minimumWritableBytes: Framing.prefixSize + length)
        out.writeInteger(UInt32(length), endianness: .big)
        out.writeImmutableBuffer(data)
    }
}
