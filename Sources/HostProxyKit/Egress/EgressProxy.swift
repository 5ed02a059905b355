import EnclaveIPC
import Logging
import NIOCore
import NIOPosix

/// What the egress proxy listens on and whom it lets through.
public struct EgressConfiguration: Sendable {
    public var listen: Endpoint
    public var allowlist: Allowlist
    public var addressPolicy: AddressPolicy
    public var maxConnections: Int
    public var limits: TunnelLimits
    public var connectTimeout: Duration
    /// A client must finish its CONNECT head within this time.
    public var requestTimeout: Duration

    public init(
        listen: Endpoint,
        allowlist: Allowlist,
        addressPolicy: AddressPolicy = .publicOnly,
        maxConnections: Int = 1024,
        limits: TunnelLimits = TunnelLimits(),
        connectTimeout: Duration = .seconds(10),
        requestTimeout: Duration = .seconds(10)
    ) {
        self.listen = listen
        self.allowlist = allowlist
        self.addressPolicy = addressPolicy
        self.maxConnections = maxConnections
        self.limits = limits
        self.connectTimeout = connectTimeout
        self.requestTimeout = requestTimeout
    }
}

/// The host's egress: an HTTP CONNECT proxy that only opens tunnels to allowlisted `host:port`
/// pairs whose resolved addresses pass the `AddressPolicy`. After `200 Connection established`
/// it only moves bytes, so TLS stays end to end between the worker in the enclave and the
/// provider; the host never sees plaintext.
///
/// Every refusal answers with a status (400 malformed, 405 not CONNECT, 403 not allowed,
/// 502 unresolvable or unreachable, 503 at the connection limit), is logged with its reason and
/// the target (never payload), and is counted under `host_proxy_refusals_total`.
public final class EgressProxy: Sendable {
    /// The address actually bound.
    public var endpoint: Endpoint { listener.endpoint }
    public let inFlight = InFlightBytes()

    private static let headReaderName = "connect-head"

    private let configuration: EgressConfiguration
    private let resolver: any Resolver
    private let listener: Listener<PendingRequest>
    private let gate: ConnectionGate
    private let metrics: ProxyMetrics
    private let logger: Logger

    private struct PendingRequest: Sendable {
        let channel: any Channel
        let head: EventLoopFuture<Result<RequestHead, RequestHeadError>>
    }

    private init(
        configuration: EgressConfiguration,
        resolver: any Resolver,
        listener: Listener<PendingRequest>,
        metrics: ProxyMetrics,
        logger: Logger
    ) {
        self.configuration = configuration
        self.resolver = resolver
        self.listener = listener
        self.gate = ConnectionGate(limit: configuration.maxConnections)
        self.metrics = metrics
        self.logger = logger
    }

    public static func bind(
        _ configuration: EgressConfiguration,
        resolver: any Resolver = SystemResolver(),
        metrics: ProxyMetrics,
        logger: Logger = Logger(label: "host-proxy.egress")
    ) async throws -> EgressProxy {
        let limits = configuration.limits
        let timeout = TimeAmount(configuration.requestTimeout)
        let listener: Listener<PendingRequest> = try await configuration.listen.bind { channel in
            channel.eventLoop.makeCompletedFuture {
                try Tunnel.prepare(channel, limits: limits)
                // The head reader goes in front of the tunnel and reads on its own until the
                // head is complete; the tunnel sees the stream from the first byte after it.
                try channel.syncOptions?.setOption(.autoRead, value: true)
                let reader = RequestHeadReader(eventLoop: channel.eventLoop, timeout: timeout)
                try channel.pipeline.syncOperations.addHandler(reader, name: headReaderName, position: .first)
                return PendingRequest(channel: channel, head: reader.result.futureResult)
            }
        }
        return EgressProxy(
            configuration: configuration,
            resolver: resolver,
            listener: listener,
            metrics: metrics,
            logger: logger
        )
    }

    /// Serves until the calling task is cancelled or `close()` is called.
    public func run() async throws {
        try await listener.channel.executeThenClose { inbound in
            try await withThrowingDiscardingTaskGroup { group in
                for try await request in inbound {
                    metrics.connectionOpened(.egress)
                    guard gate.tryEnter() else {
                        group.addTask {
                            // Read the head first (bounded by the request timeout): answering
                            // before it arrives would reset the connection and lose the 503.
                            _ = try? await request.head.get()
                            await self.refuse(
                                request.channel,
                                .tooManyConnections,
                                status: "503 Service Unavailable",
                                detail: "connection limit \(self.gate.limit) reached"
                            )
                            self.metrics.connectionClosed(.egress, after: .zero)
                        }
                        continue
                    }
                    group.addTask {
                        let start = ContinuousClock.now
                        await self.serve(request)
                        self.gate.leave()
                        self.metrics.connectionClosed(.egress, after: ContinuousClock.now - start)
                    }
                }
                group.cancelAll()
            }
        }
    }

    /// Stops accepting; `run()` then winds down and returns.
    public func close() async {
        try? await listener.channel.channel.close()
    }

    private func serve(_ request: PendingRequest) async {
        let client = request.channel
        let head: RequestHead
        switch await withTaskCancellationHandler(
            operation: { try? await request.head.get() },
            onCancel: { client.close(promise: nil) }
        ) {
        case .success(let value)?:
            head = value
        case .failure(let error)?:
            await refuse(client, .malformedRequest, status: "400 Bad Request", detail: error.description)
            return
        case nil:
            client.close(promise: nil)
            return
        }
        guard head.method == "CONNECT" else {
            await refuse(
                client,
                .methodNotAllowed,
                status: "405 Method Not Allowed",
                detail: "only CONNECT is supported",
                extraHeaders: "Allow: CONNECT\r\n"
            )
            return
        }
        let target: ConnectTarget
        do {
            target = try ConnectTarget(parsing: head.target)
        } catch {
            await refuse(client, .malformedRequest, status: "400 Bad Request", detail: error.description)
            return
        }
        guard configuration.allowlist.allows(host: target.host, port: target.port) else {
            await refuse(client, .notAllowlisted, status: "403 Forbidden", detail: "\(target) is not on the allowlist")
            return
        }
        let addresses: [SocketAddress]
        do {
            addresses = try await resolver.resolve(host: target.host, port: target.port)
        } catch {
            await refuse(client, .resolutionFailed, status: "502 Bad Gateway", detail: "\(target): \(error)")
            return
        }
        var forbidden: [AddressCategory] = []
        let allowed = addresses.filter { address in
            guard let category = configuration.addressPolicy.refusal(for: address) else { return true }
            forbidden.append(category)
            return false
        }
        guard !allowed.isEmpty else {
            if addresses.isEmpty {
                await refuse(client, .resolutionFailed, status: "502 Bad Gateway", detail: "\(target) has no addresses")
            } else {
                let categories = Set(forbidden).map(\.rawValue).sorted().joined(separator: ",")
                await refuse(
                    client,
                    .forbiddenAddress,
                    status: "403 Forbidden",
                    detail: "\(target) resolves only to forbidden addresses (\(categories))"
                )
            }
            return
        }
        let connectStart = ContinuousClock.now
        guard let upstream = await connect(to: allowed, for: client) else {
            await refuse(client, .upstreamUnreachable, status: "502 Bad Gateway", detail: "\(target) is unreachable")
            return
        }
        metrics.upstreamConnected(.egress, after: ContinuousClock.now - connectStart)
        do {
            try await client.writeAndFlush(ByteBuffer(string: "HTTP/1.1 200 Connection established\r\n\r\n"))
            let totals = try await Tunnel.run(
                client: client,
                clientHandlerToRemove: Self.headReaderName,
                upstream: upstream,
                inFlight: inFlight,
                countFromClient: metrics.countFromClient(.egress),
                countToClient: metrics.countToClient(.egress)
            )
            logger.debug(
                "tunnel closed",
                metadata: [
                    "target": "\(target)", "fromClient": "\(totals.fromClient)", "toClient": "\(totals.toClient)",
                ]
            )
        } catch {
            logger.debug("tunnel failed", metadata: ["target": "\(target)", "error": "\(error)"])
            client.close(promise: nil)
            upstream.close(promise: nil)
        }
    }

    /// Tries the allowed addresses in order and returns the first connected channel, on the
    /// client's event loop so the tunnel needs no cross-thread hops.
    private func connect(to addresses: [SocketAddress], for client: any Channel) async -> (any Channel)? {
        let limits = configuration.limits
        for address in addresses {
            guard let ip = address.ipAddress, let port = address.port.flatMap(UInt16.init(exactly:)),
                let endpoint = try? Endpoint.tcp(host: ip, port: port)
            else { continue }
            do {
                return try await endpoint.connect(group: client.eventLoop, timeout: configuration.connectTimeout) {
                    channel in
                    channel.eventLoop.makeCompletedFuture {
                        try Tunnel.prepare(channel, limits: limits)
                        return channel
                    }
                }
            } catch {
                logger.info("upstream connect failed", metadata: ["address": "\(endpoint)", "error": "\(error)"])
            }
        }
        return nil
    }

    private func refuse(
        _ client: any Channel,
        _ reason: RefusalReason,
        status: String,
        detail: String,
        extraHeaders: String = ""
    ) async {
        metrics.refused(.egress, reason)
        logger.warning("egress refused", metadata: ["reason": "\(reason.rawValue)", "detail": "\(detail)"])
        let body = "host-proxy: \(detail)\n"
        let response =
            "HTTP/1.1 \(status)\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: \(body.utf8.count)\r\n"
            + extraHeaders + "Connection: close\r\n\r\n" + body
        try? await client.writeAndFlush(ByteBuffer(string: response))
        await LingeringClose.close(client)
    }
}
