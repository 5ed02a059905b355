import Attestation
import Foundation
import Testing

@Suite struct VerificationReportTests {
    func report(measurements: Measurements?) async throws -> VerificationReport {
        let document = try RealDocument(name: "epsilon-nitro-verify-2026-02-06")
        let verifier = AttestationVerifier(trustAnchors: try TrustAnchors.awsNitro())
        return await verifier.verify(
            document.bytes, expecting: .init(measurements: measurements, verificationTime: document.verifyAt)
        )
    }

    @Test func textShowsEachCheckWithItsMark() async throws {
        let wrongPCR1 = [UInt8](repeating: 0xee, count: 48)
        let document = try RealDocument(name: "epsilon-nitro-verify-2026-02-06")
        let report = try await report(
            measurements: Measurements(pcrs: [
                0: try document.hexField("pcr0"), 1: wrongPCR1, 2: try document.hexField("pcr2"),
            ]))
        let text = report.renderedText()
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines[0] == "attestation: INVALID ✗")
        #expect(lines.contains("module:      i-0761a4cbcc7632aef-enc019c320cb32f6b7a"))
        #expect(lines.contains("timestamp:   2026-02-06T08:24:18Z (1770366258452 ms)"))
        #expect(lines.contains("verified at: 2026-02-06T09:54:16Z"))
        #expect(lines.contains { $0.hasPrefix("✓ signature: ") })
        #expect(lines.contains { $0.hasPrefix("✓ chain: leaf and 4 CA certificates up to AWS Nitro Root-G1") })
        #expect(lines.contains("✓ PCR0: matches measurements"))
        let actualPCR1 = try document.hexField("pcr1").map { String(format: "%02x", $0) }.joined()
        let expectedPCR1 = String(repeating: "ee", count: 48)
        #expect(lines.contains("✗ PCR1: PCR1 mismatch: expected \(expectedPCR1) got \(actualPCR1)"))
        #expect(lines.contains("– nonce: skipped (no nonce expected)"))
        #expect(lines.contains { $0.hasPrefix("PCR3:  258f1733") })
        #expect(!lines.contains { $0.hasPrefix("PCR5:") })  // zero PCRs beyond 0-2 are not listed
    }

    @Test func jsonCarriesTheSameFacts() async throws {
        let report = try await report(measurements: nil)
        let data = try JSONEncoder().encode(report)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(object["valid"] as? Bool == true)
        #expect(object["module_id"] as? String == "i-0761a4cbcc7632aef-enc019c320cb32f6b7a")
        #expect((object["timestamp_ms"] as? NSNumber)?.uint64Value == 1_770_366_258_452)
        #expect(object["verified_at"] as? String == "2026-02-06T09:54:16Z")
        let pcrs = try #require(object["pcrs"] as? [String: String])
        #expect(pcrs.count == 16)
        let checks = try #require(object["checks"] as? [[String: String]])
        #expect(checks.map { $0["check"] } == report.results.map { $0.check.description })
        #expect(checks.first { $0["check"] == "signature" }?["status"] == "passed")
        #expect(checks.first { $0["check"] == "PCR0" }?["status"] == "skipped")
        #expect(checks.first { $0["check"] == "PCR0" }?["detail"] == "no measurements given")
    }

    @Test func undecodableDocumentFailsFirstAndSkipsTheRest() async throws {
        let verifier = AttestationVerifier(trustAnchors: try TrustAnchors.awsNitro())
        let report = await verifier.verify([0x84, 0x40])
        #expect(!report.isValid)
        #expect(report.failures == [.cose(.cbor(.truncated(what: "data item", offset: 2, needed: 1, available: 0)))])
        #expect(report.status(of: .signature) == .skipped("the document could not be decoded"))
        #expect(report.moduleID == nil)
        let json = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(report)) as? [String: Any])
        #expect(json["valid"] as? Bool == false)
    }
}
