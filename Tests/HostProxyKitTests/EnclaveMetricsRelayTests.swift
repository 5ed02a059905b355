import EnclaveIPC
import Foundation
import NIOCore
import Testing

@testable import HostProxyKit

/// host-proxy's `/metrics` with `--enclave-metrics`: the enclave's exposition (what the
/// supervisor answers to `metrics`) is served next to host-proxy's own, and an enclave that does
/// not answer is a 0, not a failed scrape.
@Suite struct EnclaveMetricsRelayTests {
    /// A stand-in for the supervisor's host control listener: answers one line per connection.
    private func withSupervisor(at path: String, reply: String, _ body: () async throws -> Void) async throws {
        let listener = try await Endpoint.unix(path: path).bind { channel in
            channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
        }
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask {
                // Ends with the cancellation below, which is the normal end here.
                try? await listener.channel.executeThenClose { connections in
                    for try await connection in connections {
                        try await connection.executeThenClose { inbound, outbound in
                            for try await chunk in inbound where chunk.readableBytesView.contains(0x0A) { break }
                            try await outbound.write(ByteBuffer(string: reply))
                        }
                    }
                }
            }
            try await body()
            group.cancelAll()
        }
    }

    private func scrape(_ metrics: MetricsServer) async throws -> String {
        try await LineExchange.exchange("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", with: metrics.endpoint, timeout: .seconds(10))
    }

    @Test func theEnclavesMetricsAreServedWithHostProxysOwn() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let enclave = "# TYPE key_service_requests_total counter\nkey_service_requests_total{process=\"key-service\",operation=\"health\",outcome=\"ok\"} 4\n"
        try await withSupervisor(at: directory + "/control.sock", reply: "ok\n" + enclave + "\n") {
            let server = try await MetricsServer.bind(
                try .unix(path: directory + "/metrics.sock"), metrics: ProxyMetrics(), enclave: try .unix(path: directory + "/control.sock"))
            let task = Task { try await server.run() }
            defer { task.cancel() }
            let response = try await scrape(server)
            #expect(response.hasPrefix("HTTP/1.1 200 OK"))
            #expect(response.contains("host_proxy_enclave_metrics_up 1\n"), "\(response)")
            #expect(response.contains(#"key_service_requests_total{process="key-service",operation="health",outcome="ok"} 4"#))
            #expect(response.contains(#"host_proxy_connections_total{direction="ingress"} 0"#))
        }
    }

    @Test func aSilentOrRefusingEnclaveIsZeroNotAFailedScrape() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let server = try await MetricsServer.bind(
            try .unix(path: directory + "/m1.sock"), metrics: ProxyMetrics(), enclave: try .unix(path: directory + "/nobody.sock"))
        let task = Task { try await server.run() }
        defer { task.cancel() }
        let response = try await scrape(server)
        #expect(response.hasPrefix("HTTP/1.1 200 OK"))
        #expect(response.contains("host_proxy_enclave_metrics_up 0\n"), "\(response)")
        try await withSupervisor(at: directory + "/control.sock", reply: "error refused: nope\n") {
            let refusing = try await MetricsServer.bind(
                try .unix(path: directory + "/m2.sock"), metrics: ProxyMetrics(), enclave: try .unix(path: directory + "/control.sock"))
            let task = Task { try await refusing.run() }
            defer { task.cancel() }
            #expect(try await scrape(refusing).contains("host_proxy_enclave_metrics_up 0\n"))
        }
    }
}
