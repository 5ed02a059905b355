import Crypto
import Foundation
import SwiftASN1
import Testing
import X509

@testable import TLSFrontKit

@Suite("generated TLS certificate")
struct ServerCertificateTests {
    @Test func carriesTheRequestedNamesAndItsOwnHash() throws {
        let generated = try ServerCertificate.generate(subjectAlternativeNames: ["localhost", "127.0.0.1", "::1", "gateway.example"])
        let certificate = try Certificate(derEncoded: generated.derBytes)
        let names = try #require(try certificate.extensions.subjectAlternativeNames)
        #expect(names.contains(.dnsName("localhost")))
        #expect(names.contains(.dnsName("gateway.example")))
        #expect(names.contains(.ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1]))))
        #expect(names.contains(.ipAddress(ASN1OctetString(contentBytes: ArraySlice([UInt8](repeating: 0, count: 15) + [1])))))
        #expect(certificate.issuer == certificate.subject)
        #expect(certificate.publicKey.isValidSignature(certificate.signature, for: certificate))
        #expect(generated.sha256 == Array(SHA256.hash(data: generated.derBytes)))
        #expect(generated.fingerprint.count == 64)
        #expect(generated.pem.hasPrefix("-----BEGIN CERTIFICATE-----"))
    }

    @Test func eachStartMakesANewKey() throws {
        let first = try ServerCertificate.generate(subjectAlternativeNames: ["localhost"])
        let second = try ServerCertificate.generate(subjectAlternativeNames: ["localhost"])
        #expect(first.sha256 != second.sha256)
    }

    @Test func refusesBadNames() {
        #expect(throws: ServerCertificateError.noSubjectAlternativeNames) { try ServerCertificate.generate(subjectAlternativeNames: []) }
        #expect(throws: ServerCertificateError.invalidName("bad name")) {
            try ServerCertificate.generate(subjectAlternativeNames: ["bad name"])
        }
        #expect(throws: ServerCertificateError.invalidName("a..b")) { try ServerCertificate.generate(subjectAlternativeNames: ["a..b"]) }
    }
}
