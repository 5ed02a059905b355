import EnclaveIPC
import Logging
import NIOCore

/// Reads the PROXY v2 header in front of TLS, then passes every later byte through unchanged.
///
/// It stays in the pipeline after the header (as a pass-through) because it is where the
/// connection's client address lives; `clientAddress(of:)` reads it from there. Any parse error,
/// an early close or a header that does not arrive within `timeout` closes the connection:
/// nothing is forwarded to TLS until the header is accepted.
final class ProxyProtocolHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private enum State {
        case waiting(ByteBuffer)
        case forwarding
        case failed
    }

    private var state: State = .waiting(ByteBuffer())
    private(set) var header: ProxyHeader?
    private let timeout: TimeAmount
    private let logger: Logger
    private var timer: Scheduled<Void>?
    /// Completed once the header is accepted, or with nil when the connection fails first.
    private var accepted: EventLoopPromise<ProxyHeader?>?

    init(timeout: TimeAmount, logger: Logger) {
        self.timeout = timeout
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        accepted = context.eventLoop.makePromise()
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: timeout) {
            let (handler, context) = loopBound.value
            guard case .waiting(let buffer) = handler.state else { return }
            handler.fail(.incomplete(received: buffer.readableBytes), context: context)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        settle(header)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch state {
        case .forwarding:
            context.fireChannelRead(data)
        case .failed:
            return
        case .waiting(var buffered):
            var incoming = unwrapInboundIn(data)
            buffered.writeBuffer(&incoming)
            do {
                guard let (header, length) = try ProxyHeaderParser.parse(buffered.readableBytesView) else {
                    state = .waiting(buffered)
                    return
                }
                timer?.cancel()
                self.header = header
                state = .forwarding
                settle(header)
                logger.debug(
                    "PROXY v2 header accepted",
                    metadata: ["command": "\(header.command)", "client": "\(header.source.map(\.description) ?? "-")"]
                )
                buffered.moveReaderIndex(forwardBy: length)
                if buffered.readableBytes > 0 {
                    context.fireChannelRead(wrapInboundOut(buffered))
                }
            } catch {
                fail(error, context: context)
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if case .waiting(let buffer) = state, buffer.readableBytes > 0 {
            logger.info("connection refused", metadata: ["reason": "\(ProxyProtocolError.incomplete(received: buffer.readableBytes))"])
        }
        state = .failed
        settle(header)
        context.fireChannelInactive()
    }

    /// Completes `accepted` once; later calls do nothing (a promise completes only once).
    private func settle(_ header: ProxyHeader?) {
        accepted?.succeed(header)
        accepted = nil
    }

    private func fail(_ error: ProxyProtocolError, context: ChannelHandlerContext) {
        state = .failed
        settle(nil)
        logger.info("connection refused", metadata: ["reason": "\(error)"])
        context.close(promise: nil)
    }

    /// The header's client address, once the header has arrived (bounded by the header
    /// timeout). Nil without a handler (PROXY protocol off), for a connection that failed
    /// before its header, for LOCAL headers and for UNSPEC addresses.
    static func clientAddress(of channel: any Channel) async -> ProxyHeader.Address? {
        let header = try? await channel.eventLoop.flatSubmit { () -> EventLoopFuture<ProxyHeader?> in
            guard let handler = try? channel.pipeline.syncOperations.handler(type: ProxyProtocolHandler.self) else {
                return channel.eventLoop.makeSucceededFuture(nil)
            }
            return handler.accepted?.futureResult ?? channel.eventLoop.makeSucceededFuture(handler.header)
        }.get()
        return header?.source
    }
}
