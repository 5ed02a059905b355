import NIOCore

/// Closes a connection after an error response without losing that response.
///
/// Closing a socket that still has unread input makes the kernel send a reset, and a reset can
/// destroy the response before the client reads it (a CONNECT client may already have sent its
/// TLS ClientHello). So: shut the write side (the response is flushed first), discard whatever
/// still arrives, and close when the client closes or after `linger`, whichever comes first.
enum LingeringClose {
    static func close(_ channel: any Channel, linger: Duration = .seconds(2)) async {
        let added = channel.eventLoop.submit {
            try channel.pipeline.syncOperations.addHandler(DiscardInput(), position: .first)
            try channel.syncOptions?.setOption(.autoRead, value: true)
            channel.close(mode: .output, promise: nil)
        }
        guard (try? await added.get()) != nil else {
            try? await channel.close()
            return
        }
        let timer = channel.eventLoop.scheduleTask(in: TimeAmount(linger)) { channel.close(promise: nil) }
        _ = try? await channel.closeFuture.get()
        timer.cancel()
    }

    /// Drops input and closes the channel at the client's EOF.
    private final class DiscardInput: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {}

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if case ChannelEvent.inputClosed = event {
                context.close(promise: nil)
            }
            context.fireUserInboundEventTriggered(event)
        }
    }
}
