import Attestation
import Crypto
import Foundation
import GatewayClient
import Testing

/// `POST /v1/ohttp` end to end against one dev appliance, driven by two clients written apart:
///
/// - `Clients/ohttp_client.py`, an independent OHTTP client on `pyhpke` with its own Binary HTTP
///   codec (X25519 suite): raw JSON, Binary HTTP (known and indeterminate length), streams that
///   must arrive as several sealed chunks, chunked requests, inner errors sealed, and the clear
///   refusals (tampered, truncated, stale key id, wrong content type, oversized), every answer
///   checked by `tee_verify.py`;
/// - `gatewayctl ohttp` (the `GatewayClient` library) for both suites, X-Wing included, which
///   attests first and accepts only the attested certificate.
@Suite("Oblivious HTTP against a dev appliance", .serialized)
struct ObliviousHTTPTests {
    static let pythonScenarios = [
        "json_nonstream", "json_stream", "bhttp_chat", "bhttp_indeterminate_messages", "bhttp_stream", "chunked_request",
        "chunked_request_nonstream", "models", "inner_errors_are_sealed", "refusals",
    ]

    @Test func independentClientAndGatewayctlAgainstOneAppliance() async throws {
        try await ApplianceHarness.run(workers: 2) { appliance in
            try independentPythonClient(appliance)
            try gatewayctlBothSuites(appliance)
            try gatewayctlFailsWhenAttestationFails(appliance)
            try await pinnedPolicyAcceptsOnlyTheAttestedCertificate(appliance)
        }
    }

    /// The library's trust policy: after attestation, a connection pinned to the attested
    /// certificate works, and one pinned to any other hash fails the handshake, naming the check,
    /// before a request byte is sent.
    private func pinnedPolicyAcceptsOnlyTheAttestedCertificate(_ appliance: ApplianceHarness) async throws {
        let pem = try String(contentsOfFile: appliance.devRootPath, encoding: .utf8)
        let verifier = AttestationVerifier(trustAnchors: try TrustAnchors.awsNitro(plusDevRootPEM: pem))
        let attested = try await GatewayAttestation.attest(url: appliance.url, verifier: verifier, measurements: nil)
        try attested.requireValid()
        let (health, _) = try await GatewayConnection(endpoint: attested.endpoint, policy: attested.pinnedPolicy).run {
            try await $0.get("/health", accept: "application/json")
        }
        #expect(health.status == 200)

        var other = Array(SHA256.hash(data: attested.evidence.servedCertificateDER))
        other[0] ^= 0xFF
        do {
            _ = try await GatewayConnection(endpoint: attested.endpoint, policy: .pinned(sha256: other)).run {
                try await $0.get("/health", accept: "application/json")
            }
            Issue.record("a connection pinned to another certificate hash succeeded")
        } catch let error as GatewayFetchError {
            guard case .certificateNotAttested = error else { throw error }
            #expect(error.description.contains("not the attested one"))
        }
    }

    private func independentPythonClient(_ appliance: ApplianceHarness) throws {
        let result = try run(python(), [clientScript("ohttp_client.py"), appliance.url, appliance.certificatePath])
        #expect(result.status == 0, "ohttp_client.py exited \(result.status):\n\(result.stdout)\n\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
        }
        for scenario in Self.pythonScenarios {
            let line = lines.first { $0["scenario"] as? String == scenario }
            #expect(line != nil, "ohttp_client.py printed no line for \(scenario):\n\(result.stdout)")
            if let line {
                #expect(line["ok"] as? Bool == true, "\(scenario): \(line["error"] ?? "not ok")\n\(line["trace"] ?? "")")
            }
        }
        let streamed = lines.first { $0["scenario"] as? String == "json_stream" }?["sealed_chunks"] as? Int
        #expect((streamed ?? 0) >= 3, "a streamed answer must arrive as several sealed chunks")
    }

    private func gatewayctl(_ appliance: ApplianceHarness, _ arguments: [String]) throws -> CommandResult {
        try run(executable("gatewayctl"), ["ohttp", "--url", appliance.url, "--dev-root", appliance.devRootPath] + arguments)
    }

    private func gatewayctlBothSuites(_ appliance: ApplianceHarness) throws {
        let cases: [(arguments: [String], expect: [String])] = [
            (["--suite", "xwing"], ["VERIFIED ✓", "message/ohttp-req", "KEM 0x647a", "1 sealed chunk"]),
            (["--suite", "x25519", "--json"], ["VERIFIED ✓", "KEM 0x0020", "raw JSON"]),
            (["--suite", "xwing", "--stream"], ["VERIFIED ✓", "streamed", "event:"]),
            (["--suite", "x25519", "--stream", "--json"], ["VERIFIED ✓", "streamed"]),
            (["--suite", "xwing", "--chunked-request", "--path", "/v1/messages"], ["VERIFIED ✓", "message/ohttp-chunked-req"]),
            // The relay code path, with the gateway as its own relay (ARCHITECTURE §9).
            (["--relay", appliance.url + "/v1/ohttp"], ["VERIFIED ✓", "via relay"]),
            (["--method", "GET", "--path", "/v1/models"], ["unsigned", "inner status 200"]),
        ]
        for (arguments, expected) in cases {
            let result = try gatewayctl(appliance, arguments)
            #expect(result.status == 0, "gatewayctl ohttp \(arguments) exited \(result.status):\n\(result.stdout)\n\(result.stderr)")
            for text in expected {
                #expect(result.stdout.contains(text), "gatewayctl ohttp \(arguments): no '\(text)' in\n\(result.stdout)")
            }
            #expect(!result.stdout.contains("✗"), "gatewayctl ohttp \(arguments) reported a failed check:\n\(result.stdout)")
        }
        // An inner error is sealed, reported, and fails the command.
        let unknownModel = try gatewayctl(appliance, ["--model", "no-such-model"])
        #expect(unknownModel.status == 1, "\(unknownModel.stdout)\n\(unknownModel.stderr)")
        #expect(unknownModel.stdout.contains("inner status 404"), "\(unknownModel.stdout)")
    }

    /// Without the dev root the simulated NSM's chain does not verify: nothing is sent, exit 1,
    /// and the report names the chain check.
    private func gatewayctlFailsWhenAttestationFails(_ appliance: ApplianceHarness) throws {
        let result = try run(executable("gatewayctl"), ["ohttp", "--url", appliance.url])
        #expect(result.status == 1, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("NOT SENT ✗"), "\(result.stdout)")
        #expect(result.stdout.contains("chain"), "\(result.stdout)")
    }
}
