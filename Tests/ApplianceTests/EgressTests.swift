import Foundation
import Testing

/// The enclave's egress path in dev, end to end: worker → `--egress-proxy` → the supervisor's
/// egress bridge (`host-proxy bridge`) → the host's `host-proxy egress` (allowlist) → a mock
/// OpenAI-compatible upstream over HTTPS. Everything runs on 127.0.0.1; the egress is told to
/// allow loopback, which production never does.
@Suite("egress through the bridge and host-proxy", .serialized)
struct EgressTests {
    static let apiKey = "sk-egress-test-not-a-real-key"
    static let prompt = "ping through the egress"
    static let request = #"{"model":"gpt-4.1","messages":[{"role":"user","content":"\#(prompt)"}]}"#

    @Test func aWorkerReachesAnAllowlistedUpstreamThroughTheBridgeAndTheHostEgress() async throws {
        try await withEgressAppliance(allowMock: true) { appliance, mock, egress in
            let result = try appliance.curl(
                "/v1/chat/completions", body: Self.request, extra: ["-w", "\n%{http_code}"])
            #expect(result.status == 0, "\(result.stderr)")
            let (body, code) = Self.splitStatus(result.stdout)
            #expect(code == "200", "\(body)")

            // The answer is the mock's, and it is signed by the appliance.
            let answer = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
            let message = (answer["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any]
            #expect(message?["content"] as? String == "upstream heard: \(Self.prompt)")
            let verification = try Self.verify(response: body, appliance: appliance)
            #expect(verification.status == 0, "gatewayctl verify: \(verification.stdout)\(verification.stderr)")

            // The mock saw exactly this request, with the dev key-service's key.
            let requests = mock.requests
            #expect(requests.count == 1, "\(requests)")
            #expect(requests.first?["path"] as? String == "/v1/chat/completions")
            #expect(requests.first?["authorization"] as? String == "Bearer \(Self.apiKey)")

            // And it went through the host's egress: one tunnel, bytes both ways, no refusal.
            let egressLabels = ["direction": "egress"]
            #expect(try egress.metric("host_proxy_connections_total", egressLabels) == 1)
            #expect(try egress.metric("host_proxy_upstream_connect_seconds_count", egressLabels) == 1)
            let sent = try #require(
                try egress.metric("host_proxy_bytes_total", ["direction": "egress", "flow": "from_client"]))
            let received = try #require(
                try egress.metric("host_proxy_bytes_total", ["direction": "egress", "flow": "to_client"]))
            #expect(sent > 0 && received > 0, "from_client=\(sent) to_client=\(received)")
            #expect(
                try egress.metric("host_proxy_refusals_total", ["direction": "egress", "reason": "not_allowlisted"])
                    == 0)

            // The supervisor runs the bridge as a child and gave every worker its address.
            let status = try appliance.ctl("status")
            #expect(status.stdout.contains("egress-bridge pid="), "\(status.stdout)")
            #expect(appliance.output.contains { $0.contains("[egress-bridge]") && $0.contains("host-proxy ready") })
        }
    }

    @Test func anUpstreamMissingFromTheAllowlistIsRefusedWith502AndCounted() async throws {
        try await withEgressAppliance(allowMock: false) { appliance, mock, egress in
            let result = try appliance.curl(
                "/v1/chat/completions", body: Self.request, extra: ["-w", "\n%{http_code}"])
            #expect(result.status == 0, "\(result.stderr)")
            let (body, code) = Self.splitStatus(result.stdout)
            #expect(code == "502", "\(body)")
            let error = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
            let text = (error["error"] as? [String: Any])?["message"] as? String ?? ""
            #expect(text.contains("egress proxy refused"), "\(body)")
            #expect(!body.contains(Self.apiKey))

            #expect(mock.requests.isEmpty, "the mock must not be reached: \(mock.requests)")
            // One request, one refusal: the worker does not retry a tunnel the host refused.
            #expect(
                try egress.metric("host_proxy_refusals_total", ["direction": "egress", "reason": "not_allowlisted"])
                    == 1)
            #expect(try egress.metric("host_proxy_upstream_connect_seconds_count", ["direction": "egress"]) == 0)
            #expect(
                egress.process.lines.contains {
                    $0.contains("egress refused") && $0.contains("reason=not_allowlisted")
                        && $0.contains("127.0.0.1:\(mock.port) is not on the allowlist")
                },
                "\(egress.process.lines)"
            )
        }
    }

    @Test func theSupervisorRestartsACrashedBridge() async throws {
        try await withEgressAppliance(allowMock: true) { appliance, _, _ in
            let before = try #require(try Self.bridge(appliance)?.pid, "no egress-bridge in status")
            kill(before, SIGKILL)
            var restarted: (pid: Int32, line: String)?
            let deadline = ContinuousClock.now + .seconds(30)
            while ContinuousClock.now < deadline {
                if let bridge = try Self.bridge(appliance), let pid = bridge.pid, pid != before,
                    bridge.line.contains(" ready ")
                {
                    restarted = (pid, bridge.line)
                    break
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            let status = try appliance.ctl("status").stdout
            let line = try #require(restarted?.line, "the bridge was not restarted: \(status)")
            #expect(line.contains("restarts=1"), "\(line)")
            // Calls work again through the new bridge.
            let result = try appliance.curl(
                "/v1/chat/completions", body: Self.request, extra: ["-w", "\n%{http_code}"])
            #expect(Self.splitStatus(result.stdout).code == "200", "\(result.stdout)")
        }
    }

    // MARK: - Set-up

    /// Mock upstream, host egress (allowing the mock or only an unrelated host), and a dev
    /// appliance whose supervisor runs the bridge to that egress; the worker's only route to
    /// OpenAI is the mock's base URL, trusted through `--upstream-ca-file`.
    private func withEgressAppliance(
        allowMock: Bool,
        _ body: (ApplianceHarness, MockOpenAIUpstream, HostEgress) async throws -> Void
    ) async throws {
        let directory = try EgressFixtures.temporaryDirectory("egress")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let mock = try await MockOpenAIUpstream.start(in: directory)
        try await mock.process.whileRunning {
            let allowlist = allowMock ? ["127.0.0.1:\(mock.port)"] : ["api.openai.com:443"]
            let egress = try await HostEgress.start(allowlist: allowlist, in: directory)
            try await egress.process.whileRunning {
                let bridgePort = try EgressFixtures.freeLoopbackPort()
                try await ApplianceHarness.run(
                    workers: 1,
                    workerArguments: [
                        "--base-url", "openai=https://127.0.0.1:\(mock.port)/v1",
                        "--upstream-ca-file", mock.certificatePath,
                    ],
                    extraArguments: ["--egress", egress.endpoint, "--egress-listen", "tcp://127.0.0.1:\(bridgePort)"],
                    environment: ["OPENAI_API_KEY": Self.apiKey]
                ) { appliance in
                    try await body(appliance, mock, egress)
                }
            }
        }
    }

    /// curl's body and the `%{http_code}` it appended on the last line.
    static func splitStatus(_ output: String) -> (body: String, code: String) {
        guard let newline = output.lastIndex(of: "\n") else { return (output, "") }
        return (String(output[..<newline]), String(output[output.index(after: newline)...]))
    }

    /// `gatewayctl verify` of the answer against the request sent and the appliance's key.
    static func verify(response: String, appliance: ApplianceHarness) throws -> CommandResult {
        let directory = try EgressFixtures.temporaryDirectory("egress-verify")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try response.write(toFile: directory + "/response.json", atomically: true, encoding: .utf8)
        try request.write(toFile: directory + "/request.json", atomically: true, encoding: .utf8)
        return try runProgram(
            executable("gatewayctl"),
            [
                "verify", "--response", directory + "/response.json", "--request", directory + "/request.json",
                "--url", appliance.url,
            ]
        )
    }

    /// The `egress-bridge` line of `supervisor ctl status` and its pid (nil while restarting).
    static func bridge(_ appliance: ApplianceHarness) throws -> (line: String, pid: Int32?)? {
        let status = try appliance.ctl("status").stdout
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("egress-bridge ") }) else {
            return nil
        }
        let pid = line.split(separator: " ").first { $0.hasPrefix("pid=") }.flatMap { Int32($0.dropFirst(4)) }
        return (String(line), pid)
    }
}
