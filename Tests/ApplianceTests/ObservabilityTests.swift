import Crypto
import Foundation
import Testing

/// Metrics leave the enclave; content never does. One appliance serves prompts (plain and
/// streamed) and receives injected provider keys; then host-proxy's `/metrics`, relayed from
/// the supervisor's host control listener, must show the traffic, and neither it nor any log
/// line of any process may contain the prompt, the completion or a key.
@Suite("observability without content", .serialized)
struct ObservabilityTests {
    @Test func metricsReachHostProxyAndNoLogOrMetricCarriesPromptsCompletionsOrKeys() async throws {
        let directory = try EgressFixtures.temporaryDirectory("observe")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let operatorKey = Curve25519.Signing.PrivateKey()
        let publicPath = directory + "/operator.pub.pem"
        let privatePath = directory + "/operator.pem"
        try operatorKey.publicKey.pemRepresentation.write(toFile: publicPath, atomically: true, encoding: .utf8)
        try operatorKey.pemRepresentation.write(toFile: privatePath, atomically: true, encoding: .utf8)
        let control = directory + "/control.sock"
        let metricsSocket = directory + "/metrics.sock"
        let prompt = "zebra-quartz-\(UInt32.random(in: 100_000...999_999)) violet"
        let injectedKey = "sk-observe-\(UInt64.random(in: 1_000_000_000...9_999_999_999))"
        let environmentKey = "sk-env-\(UInt64.random(in: 1_000_000_000...9_999_999_999))"

        try await ApplianceHarness.run(
            workers: 2, extraArguments: ["--control-listen", "unix://" + control, "--operator-key", publicPath],
            environment: ["OPENAI_API_KEY": environmentKey]
        ) { appliance in
            let plain = try appliance.curl("/v1/chat/completions", body: #"{"model":"local","messages":[{"role":"user","content":"\#(prompt)"}]}"#)
            #expect(plain.stdout.contains("You said: \(prompt)"), "the local model echoes, so the completion holds the prompt: \(plain.stdout)")
            let streamed = try appliance.curl(
                "/v1/chat/completions", body: #"{"model":"local","stream":true,"messages":[{"role":"user","content":"\#(prompt) again"}]}"#)
            #expect(streamed.stdout.contains("data: [DONE]"), "\(streamed.stdout)")
            let injected = try run(
                executable("gatewayctl"),
                [
                    "keys", "inject", "--url", appliance.url, "--dev-root", appliance.devRootPath, "--operator-key", privatePath,
                    "--counter", "1", "--secret", "anthropic_api_key=\(injectedKey)",
                ]
            )
            #expect(injected.status == 0, "\(injected.stdout)\(injected.stderr)")
            #expect(try appliance.curl("/nope").status == 0)

            let host = try BackgroundProcess(
                "host-proxy", executable("host-proxy"),
                [
                    "ingress", "--listen", "tcp://127.0.0.1:0", "--enclave", "tcp://127.0.0.1:1",
                    "--metrics", "unix://" + metricsSocket, "--enclave-metrics", "unix://" + control,
                ]
            )
            let exposition = try await host.whileRunning {
                _ = try await host.waitForLine("ready") { $0.contains("host-proxy ready") ? true : nil }
                let scrape = try run(URL(fileURLWithPath: "/usr/bin/curl"), ["-sS", "--unix-socket", metricsSocket, "http://host-proxy/metrics"])
                #expect(scrape.status == 0, "\(scrape.stderr)")
                return scrape.stdout
            }
            #expect(exposition.contains("host_proxy_enclave_metrics_up 1"), "\(exposition.prefix(2000))")
            #expect(exposition.contains("host_proxy_connections_total{direction=\"ingress\"}"), "host-proxy's own metrics are there too")
            for process in ["key-service", "tls-front", "worker-1", "worker-2"] {
                #expect(exposition.contains("enclave_scrape_up{process=\"\(process)\"} 1"), "\(process)")
            }
            #expect(exposition.contains(#"tls_front_requests_total{process="tls-front",route="/v1/chat/completions",status="forwarded"}"#))
            #expect(exposition.contains(#"tls_front_requests_total{process="tls-front",route="other",status="forwarded"}"#), "an unknown path is `other`")
            #expect(exposition.contains(#"route="/v1/chat/completions",status="200"}"#), "a worker counted the answers by status")
            #expect(exposition.contains(#"key_service_requests_total{process="key-service",operation="signInference",outcome="ok"}"#))
            #expect(exposition.contains(#"key_service_requests_total{process="key-service",operation="injectSecrets",outcome="ok"}"#))
            #expect(exposition.contains("supervisor_workers_routed{process=\"supervisor\"} 2"))
            #expect(exposition.contains("tls_front_request_seconds_bucket"), "latency histograms")
            #expect(exposition.filter { $0 == "\n" }.count > 50)
            // Every family once: the merge must keep the exposition valid for Prometheus, which the
            // official client's parser checks independently.
            let types = exposition.split(separator: "\n").filter { $0.hasPrefix("# TYPE ") }
            #expect(Set(types).count == types.count, "duplicate TYPE lines")
            let saved = directory + "/exposition.txt"
            try exposition.write(toFile: saved, atomically: true, encoding: .utf8)
            let parsed = try run(python(), [clientScript("prometheus_parse.py"), saved])
            #expect(parsed.status == 0, "\(parsed.stderr)")
            #expect(parsed.stdout.contains("family key_service_requests counter"), "\(parsed.stdout)")
            #expect(parsed.stdout.contains("family tls_front_request_seconds histogram"), "\(parsed.stdout)")

            let secrets = ["zebra-quartz", "violet", injectedKey, environmentKey]
            for secret in secrets {
                #expect(!exposition.contains(secret), "the metrics contain \(secret)")
                let leaks = appliance.output.filter { $0.contains(secret) }
                #expect(leaks.isEmpty, "logged: \(leaks.prefix(3))")
                #expect(!host.lines.contains { $0.contains(secret) })
            }
            #expect(appliance.output.count > 20, "the logs are there to search: \(appliance.output.count) lines")
        }
    }
}
