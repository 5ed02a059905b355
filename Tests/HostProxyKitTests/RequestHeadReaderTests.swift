import NIOCore
import NIOEmbedded
import Testing

@testable import HostProxyKit

/// The head reader hands the stream over to the tunnel in the order it arrived.
@Suite struct RequestHeadReaderTests {
    /// Records what reaches the handler behind the reader.
    final class Recorder: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        var events: [String] = []

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            events.append("bytes " + String(buffer: unwrapInboundIn(data)))
        }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if case ChannelEvent.inputClosed = event { events.append("input closed") }
        }
    }

    /// A client may send its first bytes and half-close before the tunnel is joined (while the
    /// proxy still connects upstream). The bytes must come out before the half-close, or the
    /// tunnel would shut the upstream's write side first and drop them.
    @Test func bytesAfterTheHeadAreHandedOnBeforeTheClientsHalfClose() throws {
        let channel = EmbeddedChannel()
        let reader = RequestHeadReader(eventLoop: channel.eventLoop, timeout: .seconds(10))
        let recorder = Recorder()
        try channel.pipeline.syncOperations.addHandler(reader, name: "head")
        try channel.pipeline.syncOperations.addHandler(recorder)

        try channel.writeInbound(ByteBuffer(string: "CONNECT mock.test:443 HTTP/1.1\r\nHost: mock.test:443\r\n\r\nhello"))
        channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        let head = try reader.result.futureResult.wait().get()
        #expect(head.target == "mock.test:443")
        #expect(recorder.events.isEmpty, "nothing passes the reader before the tunnel takes over")

        try channel.pipeline.syncOperations.removeHandler(name: "head").wait()
        #expect(recorder.events == ["bytes hello", "input closed"])
        _ = try channel.finish()
    }

    @Test func aHalfCloseWithNothingKeptPassesStraightOn() throws {
        let channel = EmbeddedChannel()
        let reader = RequestHeadReader(eventLoop: channel.eventLoop, timeout: .seconds(10))
        let recorder = Recorder()
        try channel.pipeline.syncOperations.addHandler(reader, name: "head")
        try channel.pipeline.syncOperations.addHandler(recorder)

        try channel.writeInbound(ByteBuffer(string: "CONNECT mock.test:443 HTTP/1.1\r\n\r\n"))
        channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        #expect(recorder.events == ["input closed"])
        _ = try channel.finish()
    }
}
