import Attestation
import Crypto
import EIF
import Foundation
import GatewayCore
import Testing

@Suite struct EIFSigningTests {
    static func signed() throws -> (image: EIFImage, measurements: EIFMeasurements, der: [UInt8]) {
        let identity = try Synthetic.signingIdentity()
        let signer = try EIFSigner(certificatePEM: Array(identity.certificatePEM.utf8), keyPEM: identity.keyPEM)
        let (image, measurements) = try EIFBuilder(
            kernel: Synthetic.kernel, cmdline: Synthetic.cmdline, ramdisks: [Synthetic.bootstrap, Synthetic.customer],
            metadata: EIFFormatTests.metadata(), signer: signer
        ).build()
        return (image, measurements, identity.certificateDER)
    }

    @Test func signedImageVerifiesUnderTheOracleAndPCR8IsTheCertificateExtend() throws {
        let (image, measurements, der) = try Self.signed()
        #expect(image.sections.map(\.type) == [.kernel, .cmdline, .metadata, .ramdisk, .ramdisk, .signature])
        #expect(measurements.pcr8 == EIFMeasurements.extend(Crypto.SHA384.hash(data: der)))
        let directory = try Tools.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("signed.eif")
        try Data(image.encoded()).write(to: file)
        let oracle = try Tools.oracle(["read", file.path])
        #expect(oracle["crc_ok"] as? Bool == true)
        #expect(oracle["signature_valid"] as? Bool == true)
        #expect(oracle["signed_pcr_matches"] as? Bool == true)
        #expect(oracle["signed_register_index"] as? Int == 0)
        #expect(oracle["fields_are_integer_arrays"] as? Bool == true)
        #expect((oracle["protected_header"] as? [String: Any])?["1"] as? Int == -35)
        #expect(oracle["PCR8"] as? String == Hex.encode(try #require(measurements.pcr8)))
        #expect(oracle["PCR0"] as? String == Hex.encode(measurements.pcr0))
        #expect(try EIFImage(parsing: image.encoded()).measure() == measurements)
    }

    @Test func aSignatureOverAnotherPCR0IsRefused() throws {
        let (image, _, _) = try Self.signed()
        var sections = image.sections
        sections[3].data[0] ^= 0xFF  // change the bootstrap ramdisk, so PCR0 changes; the CRC is recomputed
        let tampered = try EIFImage(sections: sections)
        #expect(refusal { try tampered.measure() } == .badSignature("the signed payload is not this image's PCR0"))
    }

    @Test func aBrokenCOSESignatureIsRefused() throws {
        let (image, _, _) = try Self.signed()
        var section = try EIFSignatureSection(decoding: try #require(image.signature))
        section.coseSign1[section.coseSign1.count - 1] ^= 0x01
        var sections = image.sections
        sections[5].data = section.encoded()
        #expect(
            refusal { try EIFImage(sections: sections).measure() }
                == .badSignature("the COSE_Sign1 signature does not verify under the signing certificate's key"))
    }

    @Test func aKeyThatIsNotTheCertificatesIsRefused() throws {
        let identity = try Synthetic.signingIdentity()
        let other = try Synthetic.signingIdentity()
        #expect(
            refusal { try EIFSigner(certificatePEM: Array(identity.certificatePEM.utf8), keyPEM: other.keyPEM) }
                == .badKey("it does not match the signing certificate's public key"))
        guard case .badCertificate? = refusal({ try EIFSigner(certificatePEM: Array("not pem".utf8), keyPEM: identity.keyPEM) }) else {
            Issue.record("a non-PEM certificate was accepted")
            return
        }
    }

    @Test func truncatedSignatureCBORIsRefusedWithAReason() throws {
        let (image, _, _) = try Self.signed()
        var sections = image.sections
        sections[5].data.removeLast(10)
        #expect(refusal { try EIFImage(sections: sections).measure() }?.description.hasPrefix("EIF signature section: not CBOR") == true)
    }
}
