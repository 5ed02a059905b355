import NIOCore

/// Reads one request head from a connection and hands it over through a future, keeping any
/// bytes that arrived after it (a CONNECT client may send its TLS ClientHello without waiting for
/// the 200). When removed from the pipeline it passes those bytes on, so the handler added
/// behind it sees the stream exactly from the first byte after the head.
///
/// The head is bounded in size and time: a client that sends more than `maximumBytes` without a
/// blank line, or nothing complete within `timeout`, gets an error result and no more reads.
final class RequestHeadReader: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    /// The parsed head, or why there is none.
    let result: EventLoopPromise<Result<RequestHead, RequestHeadError>>
    private let maximumBytes: Int
    private let timeout: TimeAmount
    private var buffered: [UInt8] = []
    private var leftover: ByteBuffer?
    /// The client half-closed after the head while bytes were still kept here: the event is held
    /// back and passed on after those bytes, or the tunnel would shut the upstream's write side
    /// first and the bytes would have nowhere to go.
    private var inputClosedAfterLeftover = false
    private var done = false
    private var timer: Scheduled<Void>?

    init(eventLoop: any EventLoop, maximumBytes: Int = RequestHeadParser.defaultMaximumBytes, timeout: TimeAmount) {
        self.result = eventLoop.makePromise()
        self.maximumBytes = maximumBytes
        self.timeout = timeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: timeout) {
            let (reader, context) = loopBound.value
            reader.finish(context: context, with: .failure(.timedOut))
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        if !done {
            done = true
            result.succeed(.failure(.incomplete))
        }
        if let leftover, leftover.readableBytes > 0 {
            self.leftover = nil
            context.fireChannelRead(wrapInboundOut(leftover))
            context.fireChannelReadComplete()
        }
        if inputClosedAfterLeftover {
            inputClosedAfterLeftover = false
            context.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        if done {
            // Bytes after the head, arriving in the same read cycle: keep them for whoever
            // takes over the stream.
            if leftover == nil {
                leftover = buffer
            } else {
                leftover?.writeBuffer(&buffer)
            }
            return
        }
        let previous = buffered.count
        buffered += buffer.readableBytesView.prefix(maximumBytes + 1 - previous)
        // Search from a little before the new bytes: the terminator may straddle reads.
        let searchStart = max(previous - 3, 0)
        if let end = RequestHeadParser.endOfHead(in: buffered[searchStart...]).map({ $0 + searchStart }) {
            let head = Array(buffered[..<end])
            let consumedFromThisRead = end - previous
            buffer.moveReaderIndex(forwardBy: consumedFromThisRead)
            leftover = buffer
            buffered = []
            finish(context: context, with: Result { () throws(RequestHeadError) in try RequestHeadParser.parse(head) })
        } else if buffered.count > maximumBytes {
            finish(context: context, with: .failure(.tooLarge(limit: maximumBytes)))
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event {
            if !done {
                finish(context: context, with: .failure(.incomplete))
            } else if let leftover, leftover.readableBytes > 0 {
                inputClosedAfterLeftover = true
                return
            }
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !done {
            finish(context: context, with: .failure(.incomplete))
        }
        context.fireChannelInactive()
    }

    private func finish(context: ChannelHandlerContext, with outcome: Result<RequestHead, RequestHeadError>) {
        guard !done else { return }
        done = true
        timer?.cancel()
        // Stop reading: whoever receives the head decides what happens to the stream next.
        context.channel.setOption(.autoRead, value: false).whenComplete { _ in }
        result.succeed(outcome)
    }
}
