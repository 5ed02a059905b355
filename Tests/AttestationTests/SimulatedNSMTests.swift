import Attestation
import Foundation
import Testing

@Suite struct SimulatedNSMTests {
    static let measurementsJSON = """
        {"Measurements":{"HashAlgorithm":"Sha384 { ... }",\
        "PCR0":"\(String(repeating: "a1", count: 48))",\
        "PCR1":"\(String(repeating: "b2", count: 48))",\
        "PCR2":"\(String(repeating: "c3", count: 48))"}}
        """

    let authority: DevCertificateAuthority
    let measurements: Measurements
    let devVerifier: AttestationVerifier

    init() throws {
        authority = try DevCertificateAuthority()
        let file = FileManager.default.temporaryDirectory.appendingPathComponent(
            "measurements-\(UUID().uuidString).txt")
        try Data(Self.measurementsJSON.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        measurements = try Measurements(contentsOf: file)
        devVerifier = AttestationVerifier(
            trustAnchors: try TrustAnchors.awsNitro(plusDevRootPEM: try authority.rootPEM()))
    }

    @Test func roundTripBindsEverythingAndPassesEveryCheck() async throws {
        let nsm = try SimulatedNSM(measurements: measurements, authority: authority)
        let nonce = try nsm.getRandom().prefix(32).map { $0 }
        let tls = [UInt8](repeating: 1, count: 300)
        let signingKey = [UInt8](repeating: 2, count: 294)
        let ohttp = [UInt8](repeating: 3, count: 80)
        let binding = UserDataBinding(tlsCertificateDER: tls, signingKeySPKIDER: signingKey, ohttpKeyConfigs: ohttp)
        let publicKey = [UInt8](repeating: 4, count: 91)

        let bytes = try nsm.attest(nonce: nonce, userData: binding.encoded(), publicKey: publicKey)
        let report = await devVerifier.verify(
            bytes,
            expecting: AttestationExpectations(
                nonce: nonce, measurements: measurements, tlsCertificateDER: tls, signingKeySPKIDER: signingKey,
                ohttpKeyConfigs: ohttp
            )
        )
        #expect(report.isValid, "\(report.renderedText())")
        #expect(report.results.count == 10)
        #expect(report.results.allSatisfy { if case .passed = $0.status { true } else { false } })

        let document = try AttestationDocument(decoding: try COSESign1(decoding: bytes).payload)
        #expect(document.nonce == nonce)
        #expect(document.userData == binding.encoded())
        #expect(document.publicKey == publicKey)
        #expect(document.moduleID == nsm.moduleID)
        for index in 0...2 { #expect(document.pcrs[index] == measurements.pcrs[index]) }
    }

    @Test func documentHasTheShapeOfARealOne() throws {
        let nsm = try SimulatedNSM(authority: authority)
        let bytes = try nsm.attest(nonce: nil, userData: nil, publicKey: nil)
        let message = try COSESign1(decoding: bytes)
        #expect(bytes.first == 0x84)  // untagged, like /dev/nsm output
        #expect(message.protectedHeader == [0xa1, 0x01, 0x38, 0x22])
        guard case .map(let entries) = try CBORDecoder.decode(message.payload) else {
            Issue.record("payload is not a map")
            return
        }
        let keys = entries.map(\.key)
        #expect(
            keys
                == [
                    "module_id", "digest", "timestamp", "pcrs", "certificate", "cabundle", "public_key", "user_data",
                    "nonce",
                ].map(CBOR.text))
        for field in ["public_key", "user_data", "nonce"] { #expect(CBOR.map(entries)[field] == .null) }
        let document = try AttestationDocument(decoding: message.payload)
        #expect(document.pcrs.keys.sorted() == Array(0..<16))
        #expect(document.pcrs.values.allSatisfy { $0 == [UInt8](repeating: 0, count: 48) })
        #expect(document.cabundle.count == 2)
        #expect(document.cabundle[0] == (try TestChain.der(authority.root)))
        #expect(document.cabundle[1] == (try TestChain.der(authority.intermediate)))
    }

    @Test func devDocumentIsRejectedWithoutTheDevRootAndAcceptedWithIt() async throws {
        let bytes = try SimulatedNSM(authority: authority).attest(nonce: nil, userData: nil, publicKey: nil)
        let production = await AttestationVerifier(trustAnchors: try TrustAnchors.awsNitro()).verify(bytes)
        #expect(!production.isValid)
        guard case .failed(.chain(.untrustedRoot)) = production.status(of: .chain) else {
            Issue.record("expected untrusted root: \(production.renderedText())")
            return
        }
        let dev = await devVerifier.verify(bytes)
        #expect(dev.isValid, "\(dev.renderedText())")
        // Another simulator's root does not stand in for this one.
        let otherRoot = try DevCertificateAuthority().rootPEM()
        let other = await AttestationVerifier(trustAnchors: try TrustAnchors.awsNitro(plusDevRootPEM: otherRoot))
            .verify(bytes)
        #expect(!other.isValid)
    }

    @Test func zeroPCRsFailAMeasurementsPolicy() async throws {
        let bytes = try SimulatedNSM(authority: authority).attest(nonce: nil, userData: nil, publicKey: nil)
        let report = await devVerifier.verify(bytes, expecting: .init(measurements: measurements))
        #expect(report.failures.count == 3)
        #expect(report.failures.allSatisfy { "\($0)".hasSuffix("(all zero: a debug-mode enclave)") })
    }

    @Test func leafLivesAboutThreeHours() async throws {
        let bytes = try SimulatedNSM(authority: authority).attest(nonce: nil, userData: nil, publicKey: nil)
        let document = try AttestationDocument(decoding: try COSESign1(decoding: bytes).payload)
        let inside = await devVerifier.verify(
            bytes, expecting: .init(verificationTime: document.date.addingTimeInterval(2 * 3600)))
        #expect(inside.isValid)
        let after = await devVerifier.verify(
            bytes, expecting: .init(verificationTime: document.date.addingTimeInterval(4 * 3600)))
        guard case .failed(.chain(.notValidAt(let certificate, _, _, _))) = after.status(of: .chain) else {
            Issue.record("expected expiry: \(after.renderedText())")
            return
        }
        #expect(certificate == "leaf")
    }

    @Test func enforcesNSMInputLimits() throws {
        let nsm = try SimulatedNSM(authority: authority)
        #expect(throws: NSMError.moduleError(.inputTooLarge)) {
            try nsm.attest(nonce: [UInt8](repeating: 0, count: 513), userData: nil, publicKey: nil)
        }
        #expect(throws: NSMError.moduleError(.inputTooLarge)) {
            try nsm.attest(nonce: nil, userData: [UInt8](repeating: 0, count: 513), publicKey: nil)
        }
        #expect(throws: NSMError.moduleError(.inputTooLarge)) {
            try nsm.attest(nonce: nil, userData: nil, publicKey: [UInt8](repeating: 0, count: 1025))
        }
        #expect(throws: NSMError.moduleError(.invalidArgument)) {
            try nsm.attest(nonce: nil, userData: nil, publicKey: [])
        }
        #expect(throws: Never.self) {
            try nsm.attest(
                nonce: [UInt8](repeating: 0, count: 512), userData: [UInt8](repeating: 0, count: 512),
                publicKey: [UInt8](repeating: 0, count: 1024))
        }
    }

    @Test func pcrsAreSettableOnlyWithinNSMShape() throws {
        let value = [UInt8](repeating: 9, count: 48)
        let nsm = try SimulatedNSM(pcrs: [4: value], authority: authority)
        #expect(try nsm.describePCR(index: 4) == PCRDescription(locked: true, value: value))
        #expect(try nsm.describePCR(index: 0) == PCRDescription(locked: true, value: [UInt8](repeating: 0, count: 48)))
        #expect(
            try nsm.describePCR(index: 20) == PCRDescription(locked: false, value: [UInt8](repeating: 0, count: 48)))
        #expect(throws: NSMError.moduleError(.invalidIndex)) { try nsm.describePCR(index: 32) }
        #expect(throws: NSMError.invalidPCR(index: 16, length: 48)) {
            try SimulatedNSM(pcrs: [16: value], authority: authority)
        }
        #expect(throws: NSMError.invalidPCR(index: 1, length: 32)) {
            try SimulatedNSM(pcrs: [1: [UInt8](repeating: 0, count: 32)], authority: authority)
        }
    }

    @Test func randomIsFreshEachCall() throws {
        let nsm = try SimulatedNSM(authority: authority)
        let first = try nsm.getRandom()
        let second = try nsm.getRandom()
        #expect(first.count == 256)
        #expect(first != second)
    }

    @Test func devRootPEMRoundTrips() throws {
        let pem = try authority.rootPEM()
        #expect(pem.hasPrefix("-----BEGIN CERTIFICATE-----"))
        let anchors = try TrustAnchors.awsNitro(plusDevRootPEM: pem)
        #expect(anchors.roots.count == 2)
        #expect(anchors.roots[1] == authority.root)
    }
}
