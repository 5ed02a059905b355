import Attestation
import Foundation
import Testing

/// Real documents from Nitro hardware (Tests/Vectors/nitro-real): each verifies at its pinned
/// time, and every kind of tamper fails with the check that should catch it.
@Suite struct RealDocumentTests {
    static let valid = Vectors.realDocumentNames(expected: "OK")
    static let negative = Vectors.realDocumentNames(expected: "FAIL signature")

    let verifier: AttestationVerifier

    init() throws {
        verifier = AttestationVerifier(trustAnchors: try TrustAnchors.awsNitro())
    }

    @Test func vectorsArePresent() {
        #expect(Self.valid.count >= 5)
        #expect(Self.negative.count >= 2)
    }

    @Test(arguments: valid)
    func verifiesAtVerifyAtWithItsPCRs(name: String) async throws {
        let document = try RealDocument(name: name)
        let measurements = Measurements(pcrs: [
            0: try document.hexField("pcr0"), 1: try document.hexField("pcr1"), 2: try document.hexField("pcr2"),
        ])
        let report = await verifier.verify(
            document.bytes,
            expecting: AttestationExpectations(
                nonce: try document.optionalField("nonce"), measurements: measurements,
                verificationTime: document.verifyAt
            )
        )
        #expect(report.isValid, "\(report.renderedText())")
        #expect(report.failures.isEmpty)
        #expect(report.moduleID == document.metadata["module_id"] as? String)
        #expect(report.timestamp == (document.metadata["timestamp"] as? NSNumber)?.uint64Value)
        for index in 0...2 {
            #expect(report.status(of: .pcr(index)) == .passed("matches measurements"))
        }
        let nonzero = try #require(document.metadata["nonzero_pcrs"] as? [String: String])
        for (index, value) in nonzero { #expect(report.pcrs[Int(index) ?? -1] == (try RealDocument.hex(value))) }
    }

    @Test(arguments: valid)
    func verifiesAtItsOwnTimestamp(name: String) async throws {
        let document = try RealDocument(name: name)
        let report = await verifier.verify(document.bytes)
        #expect(report.isValid, "\(report.renderedText())")
        let timestamp = try #require(report.timestamp)
        #expect(report.verificationTime == Date(timeIntervalSince1970: Double(timestamp) / 1000))
    }

    @Test(arguments: negative)
    func negativeFixturesFailOnTheSignatureOnly(name: String) async throws {
        let document = try RealDocument(name: name)
        let report = await verifier.verify(document.bytes, expecting: .init(verificationTime: document.verifyAt))
        #expect(!report.isValid)
        #expect(report.failures == [.signatureInvalid])
        guard case .passed = report.status(of: .chain) else {
            Issue.record("chain should pass: \(report.renderedText())")
            return
        }
    }

    @Test(arguments: valid)
    func failsOnTheChainOneDayLater(name: String) async throws {
        let document = try RealDocument(name: name)
        let later = document.verifyAt.addingTimeInterval(86_400)
        let report = await verifier.verify(document.bytes, expecting: .init(verificationTime: later))
        #expect(!report.isValid)
        guard case .failed(.chain(.notValidAt(let certificate, let time, _, let notAfter))) = report.status(of: .chain)
        else {
            Issue.record("expected an expiry failure: \(report.renderedText())")
            return
        }
        #expect(certificate == "cabundle[3]")
        #expect(time == later)
        #expect(notAfter < later)
        #expect("\(report.failures[0])".hasPrefix("chain: certificate cabundle[3] not valid at "))
        #expect(report.status(of: .signature) == .passed("ES384 over Sig_structure with the leaf certificate's key"))
    }

    /// Flips bytes inside signed values (PCRs, nonce, user_data): the CBOR structure stays intact,
    /// so only the signature can notice.
    @Test(arguments: valid)
    func payloadTamperFailsTheSignature(name: String) async throws {
        let document = try RealDocument(name: name)
        var regions = try (0...2).compactMap { document.bytes.range(of: try document.hexField("pcr\($0)")) }
        for field in ["nonce", "user_data"] {
            if let value = try document.optionalField(field), let range = document.bytes.range(of: value) {
                regions.append(range)
            }
        }
        #expect(regions.count >= 3)
        var generator = SeededGenerator(state: 0x5eed_0001)
        for _ in 0..<6 {
            let region = try #require(regions.randomElement(using: &generator))
            let offset = Int.random(in: region, using: &generator)
            let report = await verifier.verify(
                document.bytes.flipping(offset), expecting: .init(verificationTime: document.verifyAt)
            )
            #expect(report.failures == [.signatureInvalid], "flip at \(offset): \(report.renderedText())")
        }
    }

    @Test(arguments: valid)
    func signatureTamperFailsTheSignature(name: String) async throws {
        let document = try RealDocument(name: name)
        var generator = SeededGenerator(state: 0x5eed_0002)
        for _ in 0..<6 {
            let offset = Int.random(in: (document.bytes.count - 96)..<document.bytes.count, using: &generator)
            let report = await verifier.verify(
                document.bytes.flipping(offset), expecting: .init(verificationTime: document.verifyAt)
            )
            #expect(report.failures == [.signatureInvalid], "flip at \(offset)")
        }
    }

    /// A flip anywhere inside a certificate must fail the chain check naming that certificate
    /// (the signature check fails too: the certificates are part of the signed payload).
    @Test(arguments: valid)
    func certificateTamperFailsTheChainNamingTheCertificate(name: String) async throws {
        let document = try RealDocument(name: name)
        let message = try COSESign1(decoding: document.bytes)
        let payload = try AttestationDocument(decoding: message.payload)
        let targets = [("leaf", payload.certificate), ("cabundle[2]", payload.cabundle[2])]
        var generator = SeededGenerator(state: 0x5eed_0003)
        for (label, der) in targets {
            let region = try #require(document.bytes.range(of: der))
            for _ in 0..<5 {
                let offset = Int.random(in: region, using: &generator)
                let report = await verifier.verify(
                    document.bytes.flipping(offset), expecting: .init(verificationTime: document.verifyAt)
                )
                guard case .failed(.chain(let error)) = report.status(of: .chain) else {
                    Issue.record("flip at \(offset) in \(label) did not fail the chain: \(report.renderedText())")
                    continue
                }
                #expect("\(error)".contains(label), "flip at \(offset) in \(label): \(error)")
                guard case .failed = report.status(of: .signature) else {
                    Issue.record("flip at \(offset) changed the signed payload but the signature passed")
                    continue
                }
            }
        }
    }

    @Test func tamperedRootFailsAsUntrusted() async throws {
        let document = try RealDocument(name: try #require(Self.valid.first))
        let payload = try AttestationDocument(decoding: try COSESign1(decoding: document.bytes).payload)
        let region = try #require(document.bytes.range(of: payload.cabundle[0]))
        // The last bytes of the root are its signature: the DER still parses, so only the pin catches it.
        let report = await verifier.verify(
            document.bytes.flipping(region.upperBound - 2), expecting: .init(verificationTime: document.verifyAt)
        )
        guard case .failed(.chain(.untrustedRoot)) = report.status(of: .chain) else {
            Issue.record("expected untrusted root: \(report.renderedText())")
            return
        }
    }

    @Test func debugModeDocumentPassesSignatureAndChainButFailsAPCRPolicy() async throws {
        let debugName = try #require(Self.valid.first { $0.contains("debug") })
        let debug = try RealDocument(name: debugName)
        #expect(debug.metadata["pcr0_1_2_all_zero_debug_mode"] as? Bool == true)
        let production = try RealDocument(name: try #require(Self.valid.first { !$0.contains("debug") }))
        let measurements = Measurements(pcrs: [
            0: try production.hexField("pcr0"), 1: try production.hexField("pcr1"), 2: try production.hexField("pcr2"),
        ])

        let unconstrained = await verifier.verify(debug.bytes, expecting: .init(verificationTime: debug.verifyAt))
        #expect(unconstrained.isValid)

        let report = await verifier.verify(
            debug.bytes, expecting: .init(measurements: measurements, verificationTime: debug.verifyAt)
        )
        #expect(!report.isValid)
        #expect(report.failures.count == 3)
        guard case .failed(.pcrMismatch(0, let expected, let got)) = report.status(of: .pcr(0)) else {
            Issue.record("expected PCR0 mismatch: \(report.renderedText())")
            return
        }
        #expect(expected == measurements.pcrs[0])
        #expect(got == [UInt8](repeating: 0, count: 48))
        #expect(
            "\(report.failures[0])".hasPrefix(
                "PCR0 mismatch: expected \(expected.map { String(format: "%02x", $0) }.joined())"))
        #expect("\(report.failures[0])".hasSuffix("(all zero: a debug-mode enclave)"))
    }

    @Test func wrongNonceIsNamedWithBothValues() async throws {
        let name = try #require(Self.valid.first { (try? RealDocument(name: $0).optionalField("nonce")) != nil })
        let document = try RealDocument(name: name)
        let actual = try #require(try document.optionalField("nonce"))
        let expected = actual.map { $0 ^ 0xff }
        let report = await verifier.verify(
            document.bytes, expecting: .init(nonce: expected, verificationTime: document.verifyAt)
        )
        #expect(report.failures == [.nonceMismatch(expected: expected, got: actual)])
        #expect("\(report.failures[0])".hasPrefix("nonce mismatch: expected "))
    }

    @Test func taggedDocumentVerifies() async throws {
        let document = try RealDocument(name: try #require(Self.valid.first))
        let report = await verifier.verify(
            [0xd2] + document.bytes, expecting: .init(verificationTime: document.verifyAt))
        #expect(report.isValid)
    }

    /// Any single-bit flip anywhere must make the document invalid, and never crash.
    @Test(arguments: valid)
    func noFlipAnywhereIsAccepted(name: String) async throws {
        let document = try RealDocument(name: name)
        var generator = SeededGenerator(state: 0x5eed_0004)
        for _ in 0..<24 {
            let offset = Int.random(in: 0..<document.bytes.count, using: &generator)
            let report = await verifier.verify(
                document.bytes.flipping(offset), expecting: .init(verificationTime: document.verifyAt)
            )
            #expect(!report.isValid, "flip at \(offset) was accepted")
        }
    }
}
