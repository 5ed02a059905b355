import Crypto
import Foundation
import GatewayCore
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
    /// enclave; a Unix socket here, since every endpoint form is accepted). The host is outside
    /// the trust boundary: it may read `status`, but a command that changes the appliance runs
    /// only signed by the operator key, once.
    @Test func hostControlAnswersStatusToAnyoneAndRunsOnlyFreshOperatorSignedCommands() async throws {
        let directory = try EgressFixtures.temporaryDirectory("hostctl")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let socket = directory + "/control.sock"
        let operatorKey = Curve25519.Signing.PrivateKey()
        let publicPath = directory + "/operator.pub.pem"
        let privatePath = directory + "/operator.pem"
        let strangerPath = directory + "/stranger.pem"
        try operatorKey.publicKey.pemRepresentation.write(toFile: publicPath, atomically: true, encoding: .utf8)
        try operatorKey.pemRepresentation.write(toFile: privatePath, atomically: true, encoding: .utf8)
        try Curve25519.Signing.PrivateKey().pemRepresentation.write(toFile: strangerPath, atomically: true, encoding: .utf8)
        let extra = ["--control-listen", "unix://" + socket, "--operator-key", publicPath]
        try await ApplianceHarness.run(workers: 1, extraArguments: extra) { appliance in
            func ctl(_ words: [String], key: String? = nil) throws -> CommandResult {
                try run(executable("host-proxy"), ["ctl", "--control", "unix://" + socket] + (key.map { ["--operator-key-file", $0] } ?? []) + words)
            }
            let status = try ctl(["status"])
            #expect(status.status == 0, "\(status.stderr)")
            #expect(status.stdout.contains("worker-1"), "\(status.stdout)")
            let teeIDText = try #require(status.stdout.split(whereSeparator: { $0 == " " || $0 == "\n" }).first { $0.hasPrefix("tee_id=") })
            let teeID = try #require(TEEID(String(teeIDText.dropFirst("tee_id=".count))))

            for words in [["shutdown"], ["scale", "2"], ["rotate-workers"], ["drain"], ["restart", "worker-1"]] {
                let unsigned = try ctl(words)
                #expect(unsigned.status == 1, "unsigned \(words) ran: \(unsigned.stdout)")
                #expect(unsigned.stdout.contains("error refused:") && unsigned.stdout.contains("must be signed"), "\(unsigned.stdout)")
            }
            let stranger = try ctl(["scale", "2"], key: strangerPath)
            #expect(stranger.status == 1)
            #expect(stranger.stdout.contains("does not verify"), "\(stranger.stdout)")
            let otherAppliance = try SignedControlCommand.sign("shutdown", teeID: TEEID(digest: Keccak256.hash([1])), counter: 1, key: operatorKey)
            #expect(try ctl([otherAppliance.line]).stdout.contains("does not verify"), "a command signed for another tee_id")
            #expect(try appliance.curl("/health").stdout.contains(#""status":"ok""#), "the refused commands changed nothing")

            let scaled = try ctl(["scale", "2"], key: privatePath)
            #expect(scaled.status == 0, "\(scaled.stdout)\(scaled.stderr)")
            #expect(scaled.stdout.contains("worker-1,worker-2"), "\(scaled.stdout)")

            // The same signed line twice: a host that captured it cannot run it again.
            let captured = try SignedControlCommand.sign("scale 1", teeID: teeID, counter: UInt64(Date().timeIntervalSince1970 * 1000) + 60_000, key: operatorKey)
            let first = try ctl([captured.line])
            #expect(first.status == 0, "\(first.stdout)")
            let replayed = try ctl([captured.line])
            #expect(replayed.status == 1)
            #expect(replayed.stdout.contains("not greater than the last accepted counter"), "\(replayed.stdout)")
            let stale = try ctl(["scale", "2"], key: privatePath)
            #expect(stale.stdout.contains("not greater"), "a counter below the accepted one is a replay too: \(stale.stdout)")

            let unknown = try ctl(["--counter", String(captured.counter + 1), "frobnicate"], key: privatePath)
            #expect(unknown.status == 1)
            #expect(unknown.stdout.contains("unknown command"), "\(unknown.stdout)")

            #expect(appliance.output.contains { $0.contains("host control command refused (unsigned)") })
            #expect(appliance.output.contains { $0.contains("host control command refused (replay)") })
            let local = try appliance.ctl("status")
            #expect(local.stdout.contains("worker-") && !local.stdout.contains("stopping"), "the appliance serves on: \(local.stdout)")
            #expect(try appliance.curl("/v1/models").status == 0)
        }
    }
}
