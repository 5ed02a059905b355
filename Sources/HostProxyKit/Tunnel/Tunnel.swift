import NIOCore
import Synchronization

/// Limits shared by every tunnel a proxy opens.
public struct TunnelLimits: Hashable, Sendable {
    /// A tunnel with no byte moving in either direction for this long is closed. It also ends
    /// tunnels whose reader stalls for good, which backpressure alone would keep open forever.
    public var idleTimeout: Duration
    /// Per-channel outbound buffer bounds: reading from the other side pauses above `high` and
    /// resumes below `low`.
    public var writeBufferLow: Int
    public var writeBufferHigh: Int

    public init(
        idleTimeout: Duration = .seconds(300), writeBufferLow: Int = 32 * 1024, writeBufferHigh: Int = 64 * 1024
    ) {
        self.idleTimeout = idleTimeout
        self.writeBufferLow = writeBufferLow
        self.writeBufferHigh = max(writeBufferHigh, writeBufferLow)
    }
}

/// Byte counts of one finished tunnel, for metrics (never content).
public struct TunnelTotals: Hashable, Sendable {
    /// Bytes read from the client side and forwarded upstream.
    public var fromClient: Int
    /// Bytes read from the upstream side and forwarded to the client.
    public var toClient: Int
}

/// Joins two connected channels into one byte stream in both directions.
enum Tunnel {
    /// Prepares a channel to become one side of a tunnel; call it in the channel initializer,
    /// before the channel can receive anything. Reading stays off until `run` joins both sides
    /// (the tunnel's handler keeps whatever NIO delivers anyway), half-close is delivered as an
    /// event, and the write-buffer bounds backpressure relies on are set.
    static func prepare(_ channel: any Channel, limits: TunnelLimits) throws {
        let options = channel.syncOptions
        try options?.setOption(.autoRead, value: false)
        try options?.setOption(.allowRemoteHalfClosure, value: true)
        try options?.setOption(
            .writeBufferWaterMark,
            value: .init(low: limits.writeBufferLow, high: limits.writeBufferHigh)
        )
        try channel.pipeline.syncOperations.addHandlers([
            IdleStateHandler(allTimeout: TimeAmount(limits.idleTimeout)), IdleCloser(), TunnelHandler(),
        ])
    }

    /// Joins `client` and `upstream` (prepared channels on the same event loop) and returns when
    /// both are closed. Cancelling the calling task closes both.
    ///
    /// `clientHandlerToRemove` names a handler in front of the tunnel that read the start of the
    /// client's stream (the CONNECT head); it is removed once the tunnel is joined, and passes on
    /// the bytes it kept.
    static func run(
        client: any Channel,
        clientHandlerToRemove: String? = nil,
        upstream: any Channel,
        inFlight: InFlightBytes,
        countFromClient: @escaping @Sendable (Int) -> Void,
        countToClient: @escaping @Sendable (Int) -> Void
    ) async throws -> TunnelTotals {
        let totals = TotalsBox()
        try await client.eventLoop.submit {
            let clientSide = try client.pipeline.syncOperations.handler(type: TunnelHandler.self)
            let upstreamSide = try upstream.pipeline.syncOperations.handler(type: TunnelHandler.self)
            TunnelHandler.join(
                clientSide,
                upstreamSide,
                inFlight: inFlight,
                onReadFirst: { count in
                    totals.addFromClient(count)
                    countFromClient(count)
                },
                onReadSecond: { count in
                    totals.addToClient(count)
                    countToClient(count)
                }
            )
            if let clientHandlerToRemove {
                client.pipeline.syncOperations.removeHandler(name: clientHandlerToRemove, promise: nil)
            }
            try client.syncOptions?.setOption(.autoRead, value: true)
            try upstream.syncOptions?.setOption(.autoRead, value: true)
        }.get()
        await withTaskCancellationHandler {
            _ = try? await client.closeFuture.get()
            _ = try? await upstream.closeFuture.get()
        } onCancel: {
            client.close(promise: nil)
            upstream.close(promise: nil)
        }
        return totals.value
    }
}

/// Closes a channel when `IdleStateHandler` reports that nothing moved for the idle timeout.
final class IdleCloser: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }
}

/// The running byte counts of one tunnel, written from its event loop and read after it ends.
private final class TotalsBox: Sendable {
    private let fromClient = Atomic<Int>(0)
    private let toClient = Atomic<Int>(0)

    func addFromClient(_ count: Int) { fromClient.wrappingAdd(count, ordering: .relaxed) }
    func addToClient(_ count: Int) { toClient.wrappingAdd(count, ordering: .relaxed) }

    var value: TunnelTotals {
        TunnelTotals(fromClient: fromClient.load(ordering: .relaxed), toClient: toClient.load(ordering: .relaxed))
    }
}
