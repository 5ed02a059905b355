import EnclaveIPC

/// How the supervisor learns that a child is ready, per the contracts between the processes:
/// key-service answers the `ready` operation, a worker answers `GET /health` with 200 on its
/// socket, tls-front answers `status` on its control socket, and host-proxy answers
/// `GET /metrics` with 200 (it serves metrics only once every one of its listeners is bound).
public enum ReadinessProbe: Sendable, Hashable {
    case keyService(Endpoint)
    case httpHealth(Endpoint)
    case tlsFrontControl(Endpoint)
    case hostProxyMetrics(Endpoint)

    /// One attempt; false on any failure (not up yet, refused, wrong answer).
    func check(timeout: Duration) async -> Bool {
        switch self {
        case .keyService(let endpoint):
            return (try? await Self.withKeyService(endpoint, timeout: timeout) { try await $0.ready() }) ?? false
        case .httpHealth(let endpoint):
            let request = "GET /health HTTP/1.1\r\nHost: worker\r\nConnection: close\r\n\r\n"
            guard let response = try? await LineExchange.exchange(request, with: endpoint, timeout: timeout) else { return false }
            return response.hasPrefix("HTTP/1.1 200") || response.hasPrefix("HTTP/1.0 200")
        case .hostProxyMetrics(let endpoint):
            let request = "GET /metrics HTTP/1.1\r\nHost: host-proxy\r\nConnection: close\r\n\r\n"
            guard let response = try? await LineExchange.exchange(request, with: endpoint, timeout: timeout) else {
                return false
            }
            return response.hasPrefix("HTTP/1.1 200")
        case .tlsFrontControl(let endpoint):
            guard let reply = try? await LineExchange.exchange("status\n", with: endpoint, timeout: timeout) else { return false }
            return reply.hasPrefix("ok ")
        }
    }

    /// Runs `body` with a connected key-service client, for one call (readiness, `tee_id`).
    static func withKeyService<T: Sendable>(
        _ endpoint: Endpoint, timeout: Duration, _ body: @escaping @Sendable (KeyServiceClient) async throws -> T
    ) async throws -> T {
        let client = KeyServiceClient(endpoint: endpoint, configuration: .init(requestTimeout: timeout, connectTimeout: timeout))
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                try await client.run()
                return nil
            }
            group.addTask { try await body(client) }
            defer { group.cancelAll() }
            while let outcome = try await group.next() {
                if let outcome { return outcome }
            }
            throw CancellationError()
        }
    }

    /// Polls until ready or `deadline`; returns whether it became ready. Stops early when
    /// `stillRunning` says the child has exited.
    func wait(until deadline: ContinuousClock.Instant, stillRunning: @Sendable () -> Bool) async -> Bool {
        var delay = Duration.milliseconds(20)
        while ContinuousClock.now < deadline, stillRunning(), !Task.isCancelled {
            if await check(timeout: .seconds(2)) { return true }
            try? await Task.sleep(for: delay)
            delay = min(delay * 2, .milliseconds(250))
        }
        return false
    }
}
