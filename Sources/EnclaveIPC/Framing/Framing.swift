import NIOCore

/// The length-prefixed framing every enclave IPC connection uses.
public enum Framing {
    /// 1 MiB: the largest message is an OHTTP request of up to 512 KiB, base64-encoded (×4/3)
    /// inside a JSON envelope, which stays below 700 KiB.
    public static let defaultMaximumFrameSize = 1 << 20

    static let prefixSize = 4

    /// Adds the frame decoder and encoder to a channel and wraps it so each inbound and
    /// outbound element is one frame payload. Must run on the channel's event loop, as channel
    /// initializers do.
    public static func wrap(
        _ channel: any Channel,
        maximumFrameSize: Int = defaultMaximumFrameSize
    ) throws -> NIOAsyncChannel<ByteBuffer, ByteBuffer> {
        try channel.pipeline.syncOperations.addHandlers(
            ByteToMessageHandler(FrameDecoder(maximumFrameSize: maximumFrameSize)),
            MessageToByteHandler(FrameEncoder(maximumFrameSize: maximumFrameSize))
        )
        return try NIOAsyncChannel(wrappingChannelSynchronously: channel)
    }
}
