import NIOCore

/// One half of a byte tunnel: it sits at the end of one channel's pipeline and forwards what
/// that channel reads to its partner (the other half, on the other channel of the same event
/// loop).
///
/// It is installed when the channel is created, before the partner exists, because NIO may
/// deliver bytes and EOF even with `autoRead` off (on Linux an `EPOLLRDHUP` makes it drain the
/// socket): until `join` pairs it, it keeps what arrives (bounded by the kernel's receive buffer,
/// since nothing asks for more) and remembers an EOF or close, then replays them to the partner.
///
/// Backpressure: a read is only requested from this channel while the partner is writable.
/// With `autoRead` on, NIO asks for the next read through the pipeline's `read` operation after
/// every read cycle; this handler holds that request while the partner's outbound buffer is above
/// its high water mark and releases it when the partner turns writable again. That is `autoRead`
/// off exactly while the other side's writes are pending, without racing NIO's own re-arming, so
/// the bytes buffered per direction stay below the partner's high water mark plus one read
/// cycle (4 reads of at most 64 KiB). One exception is NIO's, not ours: when the peer has sent
/// its FIN, NIO drains that socket to EOF in one go whatever the backpressure, so a direction
/// that is ending can add one kernel receive buffer (`tcp_rmem` max) on top.
///
/// Half-close: EOF on this channel becomes a write shutdown on the partner once the partner's
/// queued writes are flushed, so each direction ends independently (NIO closes a channel fully
/// once both of its directions are shut). When this channel goes away entirely, the partner gets
/// what is still queued for it and is then closed.
final class TunnelHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var partner: TunnelHandler?
    private var context: ChannelHandlerContext?
    private var pendingRead = false
    private var inFlight: InFlightBytes?
    private var onRead: (@Sendable (Int) -> Void)?

    /// This channel's read side has ended (EOF seen).
    private var inputClosed = false
    /// The last write forwarded into this channel; writes complete in order, so when it is done
    /// everything queued before it is in the kernel.
    private var lastWrite: EventLoopFuture<Void>?

    /// What arrived before `join`.
    private var early: [ByteBuffer] = []
    private var inputClosedEarly = false
    private var inactiveEarly = false

    init() {}

    /// Pairs two handlers (on two channels of the same event loop, called on that loop) and
    /// replays to each partner what its side received before. `onReadFirst` and `onReadSecond`
    /// see the size of every buffer read from the first and second channel (for byte counters);
    /// `inFlight` tracks bytes read on one side whose write to the other has not completed.
    static func join(
        _ first: TunnelHandler,
        _ second: TunnelHandler,
        inFlight: InFlightBytes,
        onReadFirst: @escaping @Sendable (Int) -> Void,
        onReadSecond: @escaping @Sendable (Int) -> Void
    ) {
        first.partner = second
        second.partner = first
        first.inFlight = inFlight
        second.inFlight = inFlight
        first.onRead = onReadFirst
        second.onRead = onReadSecond
        first.replayEarlyEvents()
        second.replayEarlyEvents()
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        self.partner = nil
    }

    // MARK: Inbound: this channel's data and events go to the partner.

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        guard let partner else {
            early.append(buffer)
            return
        }
        onRead?(buffer.readableBytes)
        partner.forward(buffer)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        partner?.flushForward()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event {
            inputClosed = true
            if let partner {
                partner.shutdownOutputAfterPendingWrites()
            } else {
                inputClosedEarly = true
            }
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let partner {
            partner.closeAfterPendingWrites()
        } else {
            inactiveEarly = true
        }
        context.fireChannelInactive()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            partner?.resumeReading()
        }
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A reset or I/O error ends this side; channelInactive then winds down the partner.
        context.close(promise: nil)
    }

    // MARK: Outbound: hold reads while the partner cannot take more.

    func read(context: ChannelHandlerContext) {
        if let partner, !partner.isWritable {
            pendingRead = true
        } else {
            context.read()
        }
    }

    // MARK: Called by the partner (same event loop).

    private var isWritable: Bool {
        context?.channel.isWritable ?? false
    }

    private func replayEarlyEvents() {
        guard let partner else { return }
        let buffers = early
        early = []
        for buffer in buffers {
            onRead?(buffer.readableBytes)
            partner.forward(buffer)
        }
        if !buffers.isEmpty {
            partner.flushForward()
        }
        if inactiveEarly {
            partner.closeAfterPendingWrites()
        } else if inputClosedEarly {
            partner.shutdownOutputAfterPendingWrites()
        }
    }

    private func forward(_ buffer: ByteBuffer) {
        guard let context else { return }
        let count = buffer.readableBytes
        let promise = context.eventLoop.makePromise(of: Void.self)
        if let inFlight {
            inFlight.add(count)
            promise.futureResult.whenComplete { _ in inFlight.subtract(count) }
        }
        lastWrite = promise.futureResult
        context.write(wrapOutboundOut(buffer), promise: promise)
    }

    private func flushForward() {
        context?.flush()
    }

    private func resumeReading() {
        guard pendingRead, let context else { return }
        pendingRead = false
        context.read()
    }

    private func shutdownOutputAfterPendingWrites() {
        guard let context else { return }
        if inputClosed {
            // Both directions are done. NIO would turn a write shutdown into an immediate full
            // close here, dropping queued writes, so wait for them first.
            closeAfterPendingWrites()
        } else {
            // NIO shuts the socket's write side only after the writes queued before it.
            context.close(mode: .output, promise: nil)
        }
    }

    private func closeAfterPendingWrites() {
        guard let context else { return }
        let channel = context.channel
        context.flush()
        if let lastWrite {
            lastWrite.whenComplete { _ in channel.close(promise: nil) }
        } else {
            channel.close(promise: nil)
        }
    }
}
