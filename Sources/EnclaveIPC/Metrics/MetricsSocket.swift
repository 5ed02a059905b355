import Metrics
import NIOCore
import Prometheus

/// An enclave process's Prometheus metrics, served on a Unix socket that only the supervisor
/// reads (mode 0600 in the role's private directory). The supervisor merges every process's
/// metrics and answers `metrics` on its control channel, which host-proxy relays to its
/// `/metrics`; nothing else in the enclave exposes them.
///
/// Protocol: the client writes one line (`metrics`), the server answers the text exposition
/// (format 0.0.4) and closes. Reading the request line before answering matters: closing a
/// socket with unread input resets the connection and can destroy the answer in flight.
///
/// Labels carry routes, operations, status codes and reasons, never request content, keys or
/// client addresses.
public enum MetricsSocket {
    /// Makes swift-metrics record into a fresh registry for this process (the executables call
    /// it once at start, so library code can use `Counter(label:dimensions:)`) and returns it.
    public static func bootstrap() -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }

    /// Serves `registry` on `endpoint` until the calling task is cancelled.
    public static func serve(_ registry: PrometheusCollectorRegistry, on endpoint: Endpoint) async throws {
        let listener = try await endpoint.bind { channel in
            channel.eventLoop.makeCompletedFuture {
                try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
            }
        }
        try await listener.channel.executeThenClose { connections in
            try await withThrowingDiscardingTaskGroup { group in
                for try await connection in connections {
                    group.addTask {
                        try? await connection.executeThenClose { inbound, outbound in
                            var received = 0
                            for try await chunk in inbound {
                                received += chunk.readableBytes
                                if chunk.readableBytesView.contains(0x0A) || received > 256 { break }
                            }
                            try await outbound.write(ByteBuffer(bytes: registry.emitToBuffer()))
                        }
                    }
                }
            }
        }
    }

    /// Runs `body` (the process's service) with its metrics served on `endpoint` next to it;
    /// without an endpoint, just `body` (nothing is recorded). The metrics socket stops when
    /// `body` returns.
    public static func serving(at endpoint: String?, _ body: @escaping @Sendable () async throws -> Void) async throws {
        guard let endpoint else { return try await body() }
        let parsed = try Endpoint(parsing: endpoint)
        let registry = bootstrap()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await serve(registry, on: parsed) }
            group.addTask { try await body() }
            // The service ending (normally or not) ends the process; the metrics go with it.
            defer { group.cancelAll() }
            _ = try await group.next()
        }
    }

    /// One scrape of a process's metrics socket.
    public static func scrape(_ endpoint: Endpoint, timeout: Duration) async throws -> String {
        try await LineExchange.exchange("metrics\n", with: endpoint, timeout: timeout)
    }
}
