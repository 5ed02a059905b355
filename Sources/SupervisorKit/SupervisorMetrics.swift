import EnclaveIPC
import Prometheus

/// The supervisor's own metrics (worker pool, restarts, rotations, refused host commands), in a
/// registry of its own (not the process-wide swift-metrics backend, so several supervisors in
/// one test process never share counters). `metrics` on the control channel returns them merged
/// with every child's (`PrometheusMerge`).
final class SupervisorMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    let workersRouted: Gauge
    let rotations: Counter
    private let restarts: [Supervisor.Role: Counter]
    private let refusals: [HostControlGate.Refusal: Counter]

    init() {
        workersRouted = registry.makeGauge(name: "supervisor_workers_routed", help: "Workers tls-front routes requests to")
        rotations = registry.makeCounter(name: "supervisor_worker_rotations_total", help: "Completed rotate-workers")
        var restarts: [Supervisor.Role: Counter] = [:]
        for role in [Supervisor.Role.keyService, .tlsFront, .worker, .egressBridge] {
            restarts[role] = registry.makeCounter(
                name: "supervisor_child_restarts_total", labels: [("role", role.metricName)], help: "Children restarted after they died"
            )
        }
        self.restarts = restarts
        var refusals: [HostControlGate.Refusal: Counter] = [:]
        for reason in HostControlGate.Refusal.allCases {
            refusals[reason] = registry.makeCounter(
                name: "supervisor_host_control_refusals_total", labels: [("reason", reason.rawValue)],
                help: "Host control lines refused, by reason"
            )
        }
        self.refusals = refusals
    }

    func restarted(_ role: Supervisor.Role) { restarts[role]?.increment() }
    func refused(_ reason: HostControlGate.Refusal) { refusals[reason]?.increment() }
    var text: String { String(decoding: registry.emitToBuffer(), as: UTF8.self) }
}

extension Supervisor.Role {
    var metricName: String {
        switch self {
        case .keyService: "key-service"
        case .tlsFront: "tls-front"
        case .worker: "worker"
        case .egressBridge: "egress-bridge"
        }
    }
}

extension SupervisorConfiguration {
    /// Where a child serves its metrics (`--metrics-socket`), in its role's directory. The
    /// egress bridge has its own `/metrics` (`egressBridgeMetricsSocket`).
    func metricsSocket(for name: String, role: Supervisor.Role) -> String? {
        switch role {
        case .keyService, .tlsFront: roleDirectory(role) + "/metrics.sock"
        case .worker: roleDirectory(role) + "/\(name).metrics.sock"
        case .egressBridge: nil
        }
    }
}

extension Supervisor {
    func metricsArguments(_ name: String, _ role: Role) -> [String] {
        configuration.metricsSocket(for: name, role: role).map { ["--metrics-socket", "unix://" + $0] } ?? []
    }

    /// Every process's metrics as one exposition: the supervisor's, then each running child's
    /// (scraped from its metrics socket, labelled `process="NAME"`), and
    /// `enclave_scrape_up{process}` saying which scrapes answered.
    func metricsExposition() async -> String {
        let targets: [(String, String)] = children.compactMap { name, managed in
            guard managed.process != nil, let path = configuration.metricsSocket(for: name, role: managed.role) else { return nil }
            return (name, path)
        }
        let scraped = await withTaskGroup(of: (String, String?).self) { group in
            for (name, path) in targets {
                group.addTask {
                    guard let endpoint = try? Endpoint.unix(path: path) else { return (name, nil) }
                    return (name, try? await MetricsSocket.scrape(endpoint, timeout: .seconds(5)))
                }
            }
            var results: [(String, String?)] = []
            for await result in group { results.append(result) }
            return results.sorted { $0.0 < $1.0 }
        }
        var up = "# HELP enclave_scrape_up Whether the supervisor could read the process's metrics\n# TYPE enclave_scrape_up gauge\n"
        for (name, text) in scraped { up += "enclave_scrape_up{process=\"\(name)\"} \(text == nil ? 0 : 1)\n" }
        var sources = [PrometheusMerge.Source(process: "supervisor", text: metrics.text), PrometheusMerge.Source(process: nil, text: up)]
        for (name, text) in scraped {
            if let text { sources.append(PrometheusMerge.Source(process: name, text: text)) }
        }
        return PrometheusMerge.merge(sources)
    }
}
