import EnclaveIPC
import Logging
import NIOCore
import NIOPosix

/// What a forwarding proxy does: where it listens, where it forwards, and its limits.
public struct ForwardingConfiguration: Hashable, Sendable {
    public var listen: Endpoint
    public var upstream: Endpoint
    /// Connections beyond this many are closed immediately and counted as
    /// `too_many_connections`.
    public var maxConnections: Int
    public var limits: TunnelLimits
    public var connectTimeout: Duration

    public init(
        listen: Endpoint,
        upstream: Endpoint,
        maxConnections: Int = 1024,
        limits: TunnelLimits = TunnelLimits(),
        connectTimeout: Duration = .seconds(5)
    ) {
        self.listen = listen
        self.upstream = upstream
        self.maxConnections = maxConnections
        self.limits = limits
        self.connectTimeout = connectTimeout
    }
}

/// Accepts connections and forwards each one's bytes to a fixed upstream, unchanged after an
/// optional preamble. Ingress (host: TCP 443 → enclave vsock 443, preamble = PROXY v2 header) and
/// the egress bridge (enclave: 127.0.0.1:3128 → host vsock 8001, no preamble, so the CONNECT
/// request and the allowlist decision reach the host untouched) are both this type.
public final class ForwardingProxy: Sendable {
    public enum Preamble: Hashable, Sendable {
        case none
        /// A PROXY protocol v2 header with the client's addresses, so the enclave sees who
        /// connected even though its socket peer is the host.
        case proxyProtocolV2
    }

    /// The address actually bound (with the OS-chosen port for `tcp://…:0`).
    public var endpoint: Endpoint { listener.endpoint }
    /// Bytes read but not yet written on, summed over live tunnels.
    public let inFlight = InFlightBytes()

    private let configuration: ForwardingConfiguration
    private let direction: ProxyDirection
    private let preamble: Preamble
    private let listener: Listener<any Channel>
    private let gate: ConnectionGate
    private let metrics: ProxyMetrics
    private let logger: Logger

    private init(
        configuration: ForwardingConfiguration,
        direction: ProxyDirection,
        preamble: Preamble,
        listener: Listener<any Channel>,
        metrics: ProxyMetrics,
        logger: Logger
    ) {
        self.configuration = configuration
        self.direction = direction
        self.preamble = preamble
        self.listener = listener
        self.gate = ConnectionGate(limit: configuration.maxConnections)
        self.metrics = metrics
        self.logger = logger
    }

    /// Host ingress: forwards to the enclave with a PROXY v2 header.
    public static func ingress(
        _ configuration: ForwardingConfiguration,
        metrics: ProxyMetrics,
        logger: Logger = Logger(label: "host-proxy.ingress")
    ) async throws -> ForwardingProxy {
        try await bind(configuration, direction: .ingress, preamble: .proxyProtocolV2, metrics: metrics, logger: logger)
    }

    /// Enclave egress bridge: forwards to the host's egress proxy byte for byte.
    public static func bridge(
        _ configuration: ForwardingConfiguration,
        metrics: ProxyMetrics,
        logger: Logger = Logger(label: "host-proxy.bridge")
    ) async throws -> ForwardingProxy {
        try await bind(configuration, direction: .bridge, preamble: .none, metrics: metrics, logger: logger)
    }

    private static func bind(
        _ configuration: ForwardingConfiguration,
        direction: ProxyDirection,
        preamble: Preamble,
        metrics: ProxyMetrics,
        logger: Logger
    ) async throws -> ForwardingProxy {
        let limits = configuration.limits
        let listener: Listener<any Channel> = try await configuration.listen.bind { channel in
            channel.eventLoop.makeCompletedFuture {
                try Tunnel.prepare(channel, limits: limits)
                return channel
            }
        }
        return ForwardingProxy(
            configuration: configuration,
            direction: direction,
            preamble: preamble,
            listener: listener,
            metrics: metrics,
            logger: logger
        )
    }

    /// Serves until the calling task is cancelled or `close()` is called, then closes the
    /// listener and every open tunnel and returns.
    public func run() async throws {
        try await listener.channel.executeThenClose { inbound in
            try await withThrowingDiscardingTaskGroup { group in
                for try await client in inbound {
                    metrics.connectionOpened(direction)
                    guard gate.tryEnter() else {
                        metrics.refused(direction, .tooManyConnections)
                        metrics.connectionClosed(direction, after: .zero)
                        logger.warning(
                            "connection refused",
                            metadata: [
                                "reason": "\(RefusalReason.tooManyConnections.rawValue)", "limit": "\(gate.limit)",
                            ]
                        )
                        client.close(promise: nil)
                        continue
                    }
                    group.addTask {
                        await self.serve(client)
                        self.gate.leave()
                    }
                }
                // The listener is closed: end the tunnels too.
                group.cancelAll()
            }
        }
    }

    /// Stops accepting; `run()` then winds down and returns.
    public func close() async {
        try? await listener.channel.channel.close()
    }

    private func serve(_ client: any Channel) async {
        let start = ContinuousClock.now
        defer { metrics.connectionClosed(direction, after: ContinuousClock.now - start) }
        let upstream: any Channel
        do {
            let limits = configuration.limits
            upstream = try await configuration.upstream.connect(
                group: client.eventLoop,
                timeout: configuration.connectTimeout
            ) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try Tunnel.prepare(channel, limits: limits)
                    return channel
                }
            }
        } catch {
            metrics.refused(direction, .upstreamUnreachable)
            logger.warning(
                "upstream unreachable",
                metadata: [
                    "reason": "\(RefusalReason.upstreamUnreachable.rawValue)",
                    "upstream": "\(configuration.upstream)", "error": "\(error)",
                ]
            )
            try? await client.close()
            return
        }
        metrics.upstreamConnected(direction, after: ContinuousClock.now - start)
        do {
            if preamble == .proxyProtocolV2 {
                let header = ProxyHeader(source: client.remoteAddress, destination: client.localAddress)
                try await upstream.writeAndFlush(ByteBuffer(bytes: header.encoded()))
            }
            let totals = try await Tunnel.run(
                client: client,
                upstream: upstream,
                inFlight: inFlight,
                countFromClient: metrics.countFromClient(direction),
                countToClient: metrics.countToClient(direction)
            )
            logger.debug(
                "tunnel closed",
                metadata: ["fromClient": "\(totals.fromClient)", "toClient": "\(totals.toClient)"]
            )
        } catch {
            logger.debug("tunnel failed", metadata: ["error": "\(error)"])
            client.close(promise: nil)
            upstream.close(promise: nil)
        }
    }
}
