import HTTPTypes
import HummingbirdCore
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOSSL
import NIOTLS

/// The deadlines a client connection must meet before it costs tls-front anything beyond a file
/// descriptor: the TLS handshake must complete within `handshake`, and once the first byte of a
/// request arrives its head must be complete within `requestHead`. A connection that misses
/// either is closed. Without them, sockets that never finish a handshake (or trickle a header
/// a byte at a time) stay open until the descriptors run out.
///
/// Two handlers share one `ConnectionDeadlines`, because no single pipeline position sees both
/// halves: `RawSide` sits right after the TLS handler (it sees the handshake event and the first
/// decrypted bytes of each request) and `HeadSide` after the HTTP decoder (it sees the decoded
/// head, and each response's end, after which the next request's clock may start).
/// `HeadSide` also answers a header block over the decoder's limit with 431, which Hummingbird
/// would otherwise answer with a bare 400.
final class ConnectionDeadlines {
    enum Phase {
        case handshaking, awaitingRequest, readingHead, inRequest
    }

    let handshake: TimeAmount
    let requestHead: TimeAmount
    private(set) var phase = Phase.handshaking
    private var timer: Scheduled<Void>?

    init(handshake: TimeAmount, requestHead: TimeAmount) {
        self.handshake = handshake
        self.requestHead = requestHead
    }

    /// Closes the connection after `delay` unless the phase has moved on by then. Everything
    /// here runs on the channel's event loop, which `NIOLoopBound` checks.
    fileprivate func arm(_ delay: TimeAmount, phase expected: Phase, context: ChannelHandlerContext) {
        timer?.cancel()
        let channel = context.channel
        let this = NIOLoopBound(self, eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: delay) {
            guard this.value.phase == expected else { return }
            channel.close(promise: nil)
        }
    }

    fileprivate func enter(_ next: Phase) {
        if next != phase {
            timer?.cancel()
            timer = nil
        }
        phase = next
    }

    /// After the TLS handler: the handshake deadline, and the start of each request's head clock.
    final class RawSide: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = ByteBuffer
        typealias InboundOut = ByteBuffer
        private let deadlines: ConnectionDeadlines

        init(_ deadlines: ConnectionDeadlines) { self.deadlines = deadlines }

        func handlerAdded(context: ChannelHandlerContext) {
            deadlines.arm(deadlines.handshake, phase: .handshaking, context: context)
        }

        func handlerRemoved(context: ChannelHandlerContext) {
            deadlines.enter(.inRequest)
        }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if let event = event as? TLSUserEvent, case .handshakeCompleted = event, deadlines.phase == .handshaking {
                deadlines.enter(.awaitingRequest)
            }
            context.fireUserInboundEventTriggered(event)
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            if deadlines.phase == .awaitingRequest {
                deadlines.enter(.readingHead)
                deadlines.arm(deadlines.requestHead, phase: .readingHead, context: context)
            }
            context.fireChannelRead(data)
        }
    }

    /// After the HTTP decoder: a complete head stops the clock; a response's end lets the next
    /// request's clock start with its first byte. Header blocks over the limit get 431.
    final class HeadSide: ChannelDuplexHandler, RemovableChannelHandler {
        typealias InboundIn = HTTPRequestPart
        typealias InboundOut = HTTPRequestPart
        typealias OutboundIn = HTTPResponsePart
        typealias OutboundOut = HTTPResponsePart
        private let deadlines: ConnectionDeadlines

        init(_ deadlines: ConnectionDeadlines) { self.deadlines = deadlines }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            if case .head = unwrapInboundIn(data) { deadlines.enter(.inRequest) }
            context.fireChannelRead(data)
        }

        func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
            if case .end = unwrapOutboundIn(data) { deadlines.enter(.awaitingRequest) }
            context.write(data, promise: promise)
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            guard let parserError = error as? HTTPParserError, parserError == .headerOverflow else {
                return context.fireErrorCaught(error)
            }
            // Answer here and close: the decoder cannot go on after an overflow, and letting the
            // error through would make Hummingbird answer a bare 400.
            deadlines.enter(.inRequest)
            let body = ByteBuffer(string: #"{"error":{"message":"request header fields too large","type":"invalid_request_error","code":"request_header_fields_too_large","param":null}}"#)
            let head = HTTPResponse(
                status: .init(code: 431, reasonPhrase: "Request Header Fields Too Large"),
                headerFields: [.contentType: "application/json", .contentLength: String(body.readableBytes), .connection: "close"]
            )
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            context.write(wrapOutboundOut(.body(body)), promise: nil)
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
        }
    }
}
