import EnclaveIPC
import Logging

/// Runs the parts of a `HostProxyConfiguration` together with systemd's life cycle: every
/// listener is bound first (a port in use fails start-up before READY, so systemd reports the
/// failure), then `READY=1`, watchdog pings while serving, and `STOPPING=1` when the calling task
/// is cancelled or any part fails.
public struct HostProxyService: Sendable {
    /// The addresses actually bound, for callers that listen on port 0.
    public struct BoundEndpoints: Hashable, Sendable {
        public var ingress: Endpoint?
        public var egress: Endpoint?
        public var bridge: Endpoint?
        public var metrics: Endpoint?
    }

    public let configuration: HostProxyConfiguration
    public let metrics: ProxyMetrics
    private let resolver: any Resolver
    private let notifier: SystemdNotifier
    private let logger: Logger

    public init(
        configuration: HostProxyConfiguration,
        metrics: ProxyMetrics = ProxyMetrics(),
        resolver: any Resolver = SystemResolver(),
        notifier: SystemdNotifier = SystemdNotifier(),
        logger: Logger = Logger(label: "host-proxy")
    ) {
        self.configuration = configuration
        self.metrics = metrics
        self.resolver = resolver
        self.notifier = notifier
        self.logger = logger
    }

    /// Binds, notifies readiness, and serves until cancelled. `onReady` runs after every
    /// listener is bound and before `READY=1` is sent.
    public func run(onReady: @Sendable (BoundEndpoints) -> Void = { _ in }) async throws {
        var servers: [any ProxyServer] = []
        var bound = BoundEndpoints()
        do {
            if let ingress = configuration.ingress {
                let server = try await ForwardingProxy.ingress(ingress, metrics: metrics, logger: logger)
                servers.append(server)
                bound.ingress = server.endpoint
            }
            if let egress = configuration.egress {
                let server = try await EgressProxy.bind(egress, resolver: resolver, metrics: metrics, logger: logger)
                servers.append(server)
                bound.egress = server.endpoint
            }
            if let bridge = configuration.bridge {
                let server = try await ForwardingProxy.bridge(bridge, metrics: metrics, logger: logger)
                servers.append(server)
                bound.bridge = server.endpoint
            }
            if let endpoint = configuration.metrics {
                let server = try await MetricsServer.bind(
                    endpoint, metrics: metrics, enclave: configuration.enclaveMetrics, logger: logger)
                servers.append(server)
                bound.metrics = server.endpoint
            }
        } catch {
            for server in servers {
                await server.close()
            }
            throw error
        }
        let listening = bound
        logger.info(
            "host-proxy ready",
            metadata: [
                "ingress": "\(listening.ingress.map(\.description) ?? "-")",
                "egress": "\(listening.egress.map(\.description) ?? "-")",
                "bridge": "\(listening.bridge.map(\.description) ?? "-")",
                "metrics": "\(listening.metrics.map(\.description) ?? "-")",
            ]
        )
        onReady(listening)
        notifier.ready(status: "serving")
        defer { notifier.stopping() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for server in servers {
                group.addTask { try await server.run() }
            }
            if notifier.watchdogTimeout() != nil {
                let notifier = self.notifier
                group.addTask { await notifier.runWatchdog() }
            }
            // The first part to end (normally by cancellation) ends them all.
            defer { group.cancelAll() }
            try await group.next()
        }
    }
}

/// The servers `HostProxyService` runs side by side.
protocol ProxyServer: Sendable {
    func run() async throws
    func close() async
}

extension ForwardingProxy: ProxyServer {}
extension EgressProxy: ProxyServer {}
extension MetricsServer: ProxyServer {}
