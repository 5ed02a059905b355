import Prometheus

/// Which proxy a connection went through; the `direction` label on every metric.
public enum ProxyDirection: String, Hashable, Sendable, CaseIterable {
    /// Internet client → host → enclave (TCP 443 → vsock 443).
    case ingress
    /// Enclave worker → host → provider (vsock 8001 CONNECT → TCP).
    case egress
    /// Inside the enclave: worker → 127.0.0.1:3128 → vsock to the host's egress.
    case bridge
}

/// Why a connection was turned away. Each value is a `reason` label and a log field; none
/// carries request content.
public enum RefusalReason: String, Hashable, Sendable, CaseIterable {
    /// The proxy was already at its connection limit.
    case tooManyConnections = "too_many_connections"
    /// The request head was not a well-formed HTTP/1.1 request, too large, or too slow.
    case malformedRequest = "malformed_request"
    /// A method other than CONNECT.
    case methodNotAllowed = "method_not_allowed"
    /// `host:port` is not on the allowlist.
    case notAllowlisted = "not_allowlisted"
    /// The name did not resolve.
    case resolutionFailed = "resolution_failed"
    /// Every resolved address was loopback, private, link-local (incl. the metadata service),
    /// unspecified, multicast or reserved, and the policy does not allow it.
    case forbiddenAddress = "forbidden_address"
    /// Connecting to the upstream (the enclave, the host's egress, or a provider) failed.
    case upstreamUnreachable = "upstream_unreachable"
}

/// The host proxy's Prometheus metrics: connection counts, bytes, refusals and durations, all
/// labelled by direction. Counts only, never content or addresses, so `/metrics` can be scraped
/// by anyone on the host without leaking who talked to the enclave or what was said.
public final class ProxyMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    private let byDirection: [ProxyDirection: DirectionMetrics]

    /// A fresh registry per instance, so tests and several proxies in one process never share
    /// counters. Every series exists from the start, so a scrape shows zeros, not gaps.
    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        var byDirection: [ProxyDirection: DirectionMetrics] = [:]
        for direction in ProxyDirection.allCases {
            byDirection[direction] = DirectionMetrics(direction, registry: registry)
        }
        self.byDirection = byDirection
    }

    func connectionOpened(_ direction: ProxyDirection) {
        guard let metrics = byDirection[direction] else { return }
        metrics.total.increment()
        metrics.active.increment()
    }

    func connectionClosed(_ direction: ProxyDirection, after duration: Duration) {
        guard let metrics = byDirection[direction] else { return }
        metrics.active.decrement()
        metrics.duration.record(duration)
    }

    func upstreamConnected(_ direction: ProxyDirection, after duration: Duration) {
        byDirection[direction]?.connectLatency.record(duration)
    }

    func refused(_ direction: ProxyDirection, _ reason: RefusalReason) {
        byDirection[direction]?.refusals[reason]?.increment()
    }

    /// Counts bytes read from the client side.
    func countFromClient(_ direction: ProxyDirection) -> @Sendable (Int) -> Void {
        let counter = byDirection[direction]?.fromClient
        return { counter?.increment(by: Int64($0)) }
    }

    /// Counts bytes read from the upstream side.
    func countToClient(_ direction: ProxyDirection) -> @Sendable (Int) -> Void {
        let counter = byDirection[direction]?.toClient
        return { counter?.increment(by: Int64($0)) }
    }

    /// The Prometheus text exposition (format 0.0.4) of every metric.
    public func exposition() -> [UInt8] {
        registry.emitToBuffer()
    }
}

/// The series of one direction, created once so the hot path never looks them up by name.
private struct DirectionMetrics: Sendable {
    let active: Gauge
    let total: Counter
    let fromClient: Counter
    let toClient: Counter
    let refusals: [RefusalReason: Counter]
    let duration: DurationHistogram
    let connectLatency: DurationHistogram

    private static let durationBuckets: [Duration] = [
        .milliseconds(10), .milliseconds(100), .milliseconds(500), .seconds(1), .seconds(5), .seconds(15),
        .seconds(60), .seconds(300), .seconds(900), .seconds(3600),
    ]
    private static let connectBuckets: [Duration] = [
        .milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(5),
    ]

    init(_ direction: ProxyDirection, registry: PrometheusCollectorRegistry) {
        let label = ("direction", direction.rawValue)
        func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
            MetricNameDescriptor(namespace: "host_proxy", metricName: metric, unitName: unit, helpText: help)
        }
        active = registry.makeGauge(
            descriptor: name("connections_active", "", "Connections currently open"),
            labels: [label]
        )
        total = registry.makeCounter(
            descriptor: name("connections", "total", "Connections accepted, including refused ones"),
            labels: [label]
        )
        let bytes = name("bytes", "total", "Bytes forwarded; flow from_client goes upstream, to_client comes back")
        fromClient = registry.makeCounter(descriptor: bytes, labels: [label, ("flow", "from_client")])
        toClient = registry.makeCounter(descriptor: bytes, labels: [label, ("flow", "to_client")])
        var refusals: [RefusalReason: Counter] = [:]
        for reason in RefusalReason.allCases {
            refusals[reason] = registry.makeCounter(
                descriptor: name("refusals", "total", "Connections turned away, by reason"),
                labels: [label, ("reason", reason.rawValue)]
            )
        }
        self.refusals = refusals
        duration = registry.makeDurationHistogram(
            descriptor: name("connection_duration", "seconds", "How long connections stayed open"),
            labels: [label],
            buckets: Self.durationBuckets
        )
        connectLatency = registry.makeDurationHistogram(
            descriptor: name("upstream_connect", "seconds", "Time to connect to the upstream"),
            labels: [label],
            buckets: Self.connectBuckets
        )
    }
}
