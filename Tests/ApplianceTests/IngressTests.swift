import Foundation
import Testing

/// The production ingress path on loopback: client → `host-proxy ingress` (PROXY v2 header) →
/// tls-front started by `supervisor --proxy-protocol`.
@Suite("host-proxy ingress in front of the appliance", .serialized)
struct IngressTests {
    @Test func requestsThroughHostProxyAreServedAndDirectTLSIsRefused() async throws {
        try await ApplianceHarness.run(workers: 1, extraArguments: ["--proxy-protocol"]) { appliance in
            // Without the header tls-front refuses the connection: it expects host-proxy first.
            let direct = try appliance.curl("/health")
            #expect(direct.status != 0, "TLS without a PROXY v2 header was accepted: \(direct.stdout)")

            let enclave = appliance.url.replacingOccurrences(of: "https://", with: "tcp://")
            let ingress = try BackgroundProcess(
                "host-proxy ingress", executable("host-proxy"),
                ["ingress", "--listen", "tcp://127.0.0.1:0", "--enclave", enclave]
            )
            try await ingress.whileRunning {
                let front = try await ingress.waitForLine("the ready line") { line -> String? in
                    guard line.contains("host-proxy ready") else { return nil }
                    return line.split(separator: " ").first { $0.hasPrefix("ingress=") }.map { String($0.dropFirst("ingress=".count)) }
                }
                let url = front.replacingOccurrences(of: "tcp://", with: "https://")
                let body = #"{"model":"local","messages":[{"role":"user","content":"through the host"}]}"#
                let answer = try run(
                    URL(fileURLWithPath: "/usr/bin/curl"),
                    [
                        "-sS", "--max-time", "60", "--cacert", appliance.certificatePath, url + "/v1/chat/completions",
                        "-H", "Content-Type: application/json", "--data-binary", body,
                    ]
                )
                #expect(answer.status == 0, "\(answer.stderr)")
                #expect(answer.stdout.contains(#""content":"You said: through the host""#), "\(answer.stdout)")
                #expect(answer.stdout.contains(#""tee_signature":""#))
            }
        }
    }
}
