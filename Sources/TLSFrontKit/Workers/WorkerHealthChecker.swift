import AsyncHTTPClient
import EnclaveIPC
import Logging
import NIOCore

/// Polls `GET /health` on every tracked worker and records the outcome in the pool. A worker
/// counts as healthy only on a 200 within `timeout`; the proxy also marks a worker unhealthy
/// at once when connecting to it fails, so a crashed worker stops getting traffic before the
/// next poll.
struct WorkerHealthChecker: Sendable {
    let pool: WorkerPool
    let client: HTTPClient
    let interval: Duration
    let timeout: Duration
    let logger: Logger

    func run() async {
        while !Task.isCancelled {
            await check(pool.tracked)
            try? await Task.sleep(for: interval)
        }
    }

    /// Checks `endpoints` concurrently and returns once every check has finished.
    func check(_ endpoints: [Endpoint]) async {
        await withDiscardingTaskGroup { group in
            for endpoint in endpoints {
                group.addTask {
                    let healthy = await probe(endpoint)
                    let wasHealthy = pool.isHealthy(endpoint)
                    pool.setHealthy(endpoint, healthy)
                    if healthy != wasHealthy {
                        logger.info("worker health changed", metadata: ["worker": "\(endpoint)", "healthy": "\(healthy)"])
                    }
                }
            }
        }
    }

    /// Probes `endpoints` concurrently without recording anything: what the control server
    /// needs to know about a new worker set before it switches to it.
    func probe(_ endpoints: [Endpoint]) async -> [Endpoint: Bool] {
        await withTaskGroup(of: (Endpoint, Bool).self) { group in
            for endpoint in endpoints {
                group.addTask { (endpoint, await probe(endpoint)) }
            }
            var results: [Endpoint: Bool] = [:]
            for await (endpoint, healthy) in group { results[endpoint] = healthy }
            return results
        }
    }

    private func probe(_ endpoint: Endpoint) async -> Bool {
        let request = HTTPClientRequest(url: WorkerAddress.url(endpoint, "/health"))
        do {
            let response = try await client.execute(request, timeout: TimeAmount(timeout))
            _ = try await response.body.collect(upTo: 64 * 1024)
            return response.status.code == 200
        } catch {
            logger.debug("worker health check failed", metadata: ["worker": "\(endpoint)", "error": "\(error)"])
            return false
        }
    }
}
