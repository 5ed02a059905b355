import Crypto
import Foundation
import Testing
import _CryptoExtras

/// The operator path end to end: `supervisor --operator-key` → key-service, and
/// `gatewayctl keys inject` attesting the dev appliance, sealing to its attested OHTTP key and
/// posting to tls-front's `POST /v1/keys`.
@Suite("operator key injection", .serialized)
struct KeyInjectionTests {
    @Test func injectedKeysReachKeyServiceAndReplaysAndStrangersAreRefused() async throws {
        let directory = try EgressFixtures.temporaryDirectory("inject")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let operatorKey = Curve25519.Signing.PrivateKey()
        let publicPath = directory + "/operator.pub.pem"
        let privatePath = directory + "/operator.pem"
        try operatorKey.publicKey.pemRepresentation.write(toFile: publicPath, atomically: true, encoding: .utf8)
        try operatorKey.pemRepresentation.write(toFile: privatePath, atomically: true, encoding: .utf8)
        let strangerPath = directory + "/stranger.pem"
        try Curve25519.Signing.PrivateKey().pemRepresentation.write(toFile: strangerPath, atomically: true, encoding: .utf8)

        try await ApplianceHarness.run(workers: 1, extraArguments: ["--operator-key", publicPath]) { appliance in
            func inject(_ key: String, counter: Int, _ extra: [String] = []) throws -> CommandResult {
                try run(
                    executable("gatewayctl"),
                    [
                        "keys", "inject", "--url", appliance.url, "--dev-root", appliance.devRootPath,
                        "--operator-key", key, "--counter", String(counter), "--secret", "openai_api_key=sk-injected-1",
                    ] + extra
                )
            }
            let accepted = try inject(privatePath, counter: 5)
            #expect(accepted.status == 0, "\(accepted.stdout)\(accepted.stderr)")
            #expect(accepted.stdout.contains("INJECTED ✓"), "\(accepted.stdout)")
            #expect(accepted.stdout.contains("openai_api_key"))
            #expect(!accepted.stdout.contains("sk-injected-1"), "the key itself is never printed")

            let health = try appliance.curl("/health")
            #expect(health.stdout.contains(#""providers":["openai_api_key"]"#), "\(health.stdout)")

            let replay = try inject(privatePath, counter: 5)
            #expect(replay.status == 1)
            #expect(replay.stdout.contains("HTTP 409"), "\(replay.stdout)")

            let stranger = try inject(strangerPath, counter: 6)
            #expect(stranger.status == 1)
            #expect(stranger.stdout.contains("HTTP 401"), "\(stranger.stdout)")

            let unattested = try run(
                executable("gatewayctl"),
                ["keys", "inject", "--url", appliance.url, "--operator-key", privatePath, "--counter", "7", "--secret", "x=y"]
            )
            #expect(unattested.status == 1)
            #expect(unattested.stdout.contains("NOT SENT"), "without the dev root the attestation fails and nothing is sent")

            let ignored = try appliance.curl("/health")
            #expect(!appliance.output.contains { $0.contains("sk-injected-1") }, "no process logged the key")
            #expect(ignored.stdout.contains(#""providers":["openai_api_key"]"#))
        }
    }
}
