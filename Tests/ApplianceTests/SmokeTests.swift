import Foundation
import Testing

@Suite("dev appliance", .serialized)
struct SmokeTests {
    @Test func startsServesASignedAnswerAndStopsCleanly() async throws {
        try await ApplianceHarness.run(workers: 1) { appliance in
            let result = try appliance.curl("/v1/chat/completions", body: #"{"model":"local","messages":[{"role":"user","content":"Say hello"}]}"#)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout.contains(#""content":"You said: Say hello""#))
            #expect(result.stdout.contains(#""tee_signature":""#))
            let status = try appliance.ctl("status")
            #expect(status.status == 0, "\(status.stderr)")
            #expect(status.stdout.contains("worker-1"))
        }
    }

    /// `host-proxy ctl` reaches the supervisor through `--control-listen` (a vsock port in the
    /// enclave; a Unix socket here, since every endpoint form is accepted).
    @Test func hostProxyCtlRelaysToTheSupervisor() async throws {
        let socket = "/tmp/appl-hostctl-\(getpid()).sock"
        defer { try? FileManager.default.removeItem(atPath: socket) }
        try await ApplianceHarness.run(workers: 1, extraArguments: ["--control-listen", "unix://" + socket]) { _ in
            let status = try run(executable("host-proxy"), ["ctl", "--control", "unix://" + socket, "status"])
            #expect(status.status == 0, "\(status.stderr)")
            #expect(status.stdout.contains("worker-1"), "\(status.stdout)")
            let scaled = try run(executable("host-proxy"), ["ctl", "--control", "unix://" + socket, "scale", "2"])
            #expect(scaled.status == 0, "\(scaled.stderr)")
            #expect(scaled.stdout.contains("worker-1,worker-2"), "\(scaled.stdout)")
            let refused = try run(executable("host-proxy"), ["ctl", "--control", "unix://" + socket, "frobnicate"])
            #expect(refused.status != 0)
            #expect((refused.stdout + refused.stderr).contains("unknown command"))
        }
    }
}
