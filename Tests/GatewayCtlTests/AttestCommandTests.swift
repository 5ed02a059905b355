import Attestation
import Foundation
import GatewayCore
import Testing

/// A scratch directory for the files a verifier would pass on the command line.
struct TemporaryFiles {
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("gatewayctl-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let url = directory.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url.path
    }

    func write(_ name: String, _ text: String) throws -> String { try write(name, Array(text.utf8)) }
}

func measurementsJSON(_ pcrs: [Int: [UInt8]]) -> String {
    let fields = pcrs.keys.sorted().map { "\"PCR\($0)\":\"\(GatewayCore.Hex.encode(pcrs[$0] ?? []))\"" }
    return #"{"Measurements":{"HashAlgorithm":"Sha384 { ... }","# + fields.joined(separator: ",") + "}}"
}

func pcrValue(_ byte: UInt8) -> [UInt8] { [UInt8](repeating: byte, count: 48) }

@Suite struct AttestURLTests {
    let pcrs = [0: pcrValue(0xa0), 1: pcrValue(0xa1), 2: pcrValue(0xa2)]

    private func attest(_ gateway: TestGateway, _ extra: [String] = [], devRoot: Bool = true) throws -> CommandResult {
        let files = try TemporaryFiles()
        var arguments = ["attest", "--url", gateway.url]
        if devRoot { arguments += ["--dev-root", try files.write("root.pem", try gateway.authority.rootPEM())] }
        return try gatewayctl(arguments + extra, stdin: [])
    }

    @Test func honestGatewayPassesEveryCheck() async throws {
        let gateway = try await TestGateway(pcrs: pcrs)
        let measurements = try TemporaryFiles().write("measurements.txt", measurementsJSON(pcrs))
        let result = try attest(gateway, ["--measurements", measurements])
        try await gateway.stop()
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        for line in [
            "✓ signature", "✓ chain", "✓ nonce", "✓ PCR0", "✓ PCR1", "✓ PCR2", "✓ user_data: TLS certificate",
            "✓ user_data: signing key", "✓ user_data: OHTTP key configs", "✓ tee_id", "✓ OHTTP key configs",
            "gateway: VERIFIED ✓",
        ] {
            #expect(result.stdout.contains(line), "missing '\(line)' in \(result.stdout)")
        }
        #expect(result.stdout.contains(GatewayCore.Hex.encode(UserDataBinding.digest(gateway.certificateDER))))
        #expect(!result.stdout.contains("✗"))
    }

    @Test func certificateOtherThanTheBoundOneFailsTheTLSBinding() async throws {
        let other = try TestGateway.selfSignedCertificate().der
        let gateway = try await TestGateway(behaviour: .init(boundCertificateDER: other))
        let result = try attest(gateway)
        try await gateway.stop()
        #expect(result.status == 1)
        let expected = GatewayCore.Hex.encode(UserDataBinding.digest(gateway.certificateDER))
        let bound = GatewayCore.Hex.encode(UserDataBinding.digest(other))
        #expect(result.stdout.contains("✗ user_data: TLS certificate: user_data: TLS certificate mismatch: expected sha256 \(expected) got \(bound)"), "\(result.stdout)")
        #expect(result.stdout.contains("✓ user_data: signing key"))
        #expect(result.stdout.contains("gateway: NOT VERIFIED ✗"))
    }

    @Test func wrongNonceEchoFailsTheNonceCheck() async throws {
        let stale = [UInt8](repeating: 7, count: 32)
        let gateway = try await TestGateway(behaviour: .init(echoedNonce: stale))
        let result = try attest(gateway)
        try await gateway.stop()
        #expect(result.status == 1)
        #expect(result.stdout.contains("✗ nonce: nonce mismatch: expected "), "\(result.stdout)")
        #expect(result.stdout.contains("got \(GatewayCore.Hex.encode(stale))"))
        #expect(result.stdout.contains("✓ chain"))
    }

    @Test func pcrMismatchNamesThePCRWithBothValues() async throws {
        let gateway = try await TestGateway(pcrs: pcrs)
        var expected = pcrs
        expected[1] = pcrValue(0xb1)
        let measurements = try TemporaryFiles().write("measurements.txt", measurementsJSON(expected))
        let result = try attest(gateway, ["--measurements", measurements])
        try await gateway.stop()
        #expect(result.status == 1)
        #expect(result.stdout.contains("✗ PCR1: PCR1 mismatch: expected \(GatewayCore.Hex.encode(pcrValue(0xb1))) got \(GatewayCore.Hex.encode(pcrValue(0xa1)))"), "\(result.stdout)")
        #expect(result.stdout.contains("✓ PCR0") && result.stdout.contains("✓ PCR2"))
    }

    @Test func withoutDevRootTheChainFails() async throws {
        let gateway = try await TestGateway()
        let result = try attest(gateway, devRoot: false)
        try await gateway.stop()
        #expect(result.status == 1)
        #expect(result.stdout.contains("✗ chain: chain: cabundle[0]"), "\(result.stdout)")
        #expect(result.stdout.contains("is not a trusted root"))
    }

    @Test func withoutMeasurementsPCRsAreSkippedWithANote() async throws {
        let gateway = try await TestGateway()
        let result = try attest(gateway)
        try await gateway.stop()
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("– PCR0: skipped (no measurements given)"))
        #expect(result.stdout.contains("note: PCRs not compared"))
    }

    @Test func missingOHTTPKeysAreReportedNotServed() async throws {
        let gateway = try await TestGateway(behaviour: .init(servesOHTTPKeys: false))
        let result = try attest(gateway)
        try await gateway.stop()
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("– OHTTP key configs: skipped (not served: /.well-known/ohttp-gateway answered 404)"))
        #expect(result.stdout.contains("– user_data: OHTTP key configs: skipped"))
    }

    @Test func teeIDThatDoesNotNameTheKeyFails() async throws {
        let wrong = "0x" + String(repeating: "ab", count: 32)
        let gateway = try await TestGateway(behaviour: .init(statedTEEID: wrong))
        let result = try attest(gateway)
        try await gateway.stop()
        #expect(result.status == 1)
        #expect(result.stdout.contains("✗ tee_id: tee_id mismatch: expected \(gateway.signingKey.teeID) got \(wrong)"), "\(result.stdout)")
    }

    @Test func jsonReportCarriesEveryCheck() async throws {
        let gateway = try await TestGateway(behaviour: .init(echoedNonce: [UInt8](repeating: 1, count: 32)))
        let result = try attest(gateway, ["--json"])
        try await gateway.stop()
        #expect(result.status == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(object["valid"] as? Bool == false)
        #expect(object["tee_id"] as? String == gateway.signingKey.teeID.description)
        let attestation = try #require(object["attestation"] as? [String: Any])
        let checks = try #require(attestation["checks"] as? [[String: String]])
        #expect(checks.first { $0["check"] == "nonce" }?["status"] == "failed")
        #expect(checks.first { $0["check"] == "chain" }?["status"] == "passed")
        let extra = try #require(object["checks"] as? [[String: String]])
        #expect(extra.first { $0["check"] == "tee_id" }?["status"] == "passed")
    }

    @Test func unreachableGatewayIsUnusableInput() async throws {
        // A port that was just bound and released: nothing listens there.
        let gateway = try await TestGateway()
        try await gateway.stop()
        let result = try gatewayctl(["attest", "--url", gateway.url], stdin: [])
        #expect(result.status == 2)
        #expect(result.stderr.hasPrefix("gatewayctl: https://127.0.0.1:\(gateway.port): "))
        let badURL = try gatewayctl(["attest", "--url", "http://127.0.0.1:1"], stdin: [])
        #expect(badURL.status == 2 && badURL.stderr.contains("expected https://HOST[:PORT]"))
    }
}

@Suite struct AttestDocumentTests {
    let authority: DevCertificateAuthority
    let nonce = [UInt8](repeating: 0x5a, count: 32)
    let document: [UInt8]
    let files: TemporaryFiles
    let root: String

    init() throws {
        authority = try DevCertificateAuthority()
        document = try SimulatedNSM(pcrs: [0: pcrValue(1)], authority: authority).attest(nonce: nonce, userData: nil, publicKey: nil)
        files = try TemporaryFiles()
        root = try files.write("root.pem", try authority.rootPEM())
    }

    @Test func base64WithOrWithoutNewlineAndRawCBORVerify() throws {
        let base64 = Data(document).base64EncodedString()
        for (name, bytes) in [("b64nl", Array((base64 + "\n").utf8)), ("b64", Array(base64.utf8)), ("cbor", document)] {
            let path = try files.write(name, bytes)
            let result = try gatewayctl(["attest", "--document", path, "--dev-root", root, "--nonce", GatewayCore.Hex.encode(nonce)], stdin: [])
            #expect(result.status == 0, "\(name): \(result.stdout)\(result.stderr)")
            #expect(result.stdout.hasPrefix("attestation: VALID ✓"), "\(name)")
            #expect(result.stdout.contains("✓ nonce: matches the 32-byte nonce sent"))
            #expect(result.stdout.contains("PCR0:  \(GatewayCore.Hex.encode(pcrValue(1)))"))
        }
    }

    @Test func wrongNonceAndLateTimeFail() throws {
        let path = try files.write("doc", document)
        let nonce = try gatewayctl(["attest", "--document", path, "--dev-root", root, "--nonce", "00ff"], stdin: [])
        #expect(nonce.status == 1)
        #expect(nonce.stdout.contains("✗ nonce: nonce mismatch: expected 00ff got \(GatewayCore.Hex.encode(self.nonce))"))
        let late = try gatewayctl(["attest", "--document", path, "--dev-root", root, "--at", "2099-01-01T00:00:00Z"], stdin: [])
        #expect(late.status == 1)
        #expect(late.stdout.contains("✗ chain:") && late.stdout.contains("2099-01-01T00:00:00Z"), "\(late.stdout)")
    }

    @Test func tamperedDocumentFailsTheSignature() throws {
        var tampered = document
        tampered[tampered.count - 10] ^= 0x01  // inside the signature
        let result = try gatewayctl(["attest", "--document", try files.write("bad", tampered), "--dev-root", root], stdin: [])
        #expect(result.status == 1)
        #expect(result.stdout.contains("✗ signature"))
    }

    @Test func jsonReportIsTheLibrarysReport() throws {
        let result = try gatewayctl(["attest", "--document", try files.write("doc", document), "--dev-root", root, "--json"], stdin: [])
        #expect(result.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(object["valid"] as? Bool == true)
        #expect(object["module_id"] as? String == "i-00000000000000000-enc0000000000000000")
        #expect((object["pcrs"] as? [String: String])?["0"] == GatewayCore.Hex.encode(pcrValue(1)))
    }

    @Test func unusableInputExitsTwoNamingTheProblem() throws {
        let doc = try files.write("doc", document)
        let cases: [([String], String)] = [
            (["--document", files.directory.appendingPathComponent("absent").path], "cannot read"),
            (["--document", try files.write("text", "not a document!")], "byte 0x21 at offset 14 is not a base64 character"),
            (["--document", try files.write("pad", "QUJD=A==")], "not valid base64"),
            (["--document", try files.write("empty", [UInt8]())], "attestation document is empty"),
            (["--document", doc, "--at", "yesterday"], "--at 'yesterday' is not an ISO 8601 time"),
            (["--document", doc, "--nonce", "xyz"], "--nonce"),
            (["--document", doc, "--measurements", try files.write("m", #"{"Measurements":{"HashAlgorithm":"Sha384 { ... }","PCR0":"00"}}"#)], "PCR0 is 1 bytes"),
            (["--document", doc, "--dev-root", try files.write("root", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")], "dev root PEM cannot be parsed"),
            (["--document", doc, "--url", "https://127.0.0.1:1"], "exactly one of --url or --document"),
            ([], "exactly one of --url or --document"),
        ]
        for (arguments, message) in cases {
            let result = try gatewayctl(["attest"] + arguments, stdin: [])
            #expect(result.status == 2, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
            #expect(result.stdout.isEmpty)
        }
    }
}
