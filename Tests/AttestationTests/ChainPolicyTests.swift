import Attestation
import Crypto
import Foundation
import SwiftASN1
import Testing
import X509

/// The chain rules real documents always satisfy, each broken once on purpose.
@Suite struct ChainPolicyTests {
    func chainFailure(_ report: VerificationReport) -> ChainError? {
        if case .failed(.chain(let error)) = report.status(of: .chain) { error } else { nil }
    }

    @Test func wellFormedChainWithoutKeyIdentifiersPasses() async throws {
        let root = try TestChain.root(pathLength: 1)
        let intermediate = try TestChain.issue("ca", by: root, extensions: try TestChain.caExtensions(pathLength: 0))
        let leaf = try TestChain.issue("leaf", by: intermediate, extensions: try TestChain.leafExtensions())
        let report = try await TestChain.verify(
            try TestChain.document(bundle: [root, intermediate], leaf: leaf), trusting: root)
        #expect(report.isValid, "\(report.renderedText())")
        #expect(try leaf.certificate.extensions.authorityKeyIdentifier == nil)
        #expect(try leaf.certificate.extensions.subjectKeyIdentifier == nil)
    }

    @Test func leafThatIsACAIsRejected() async throws {
        let root = try TestChain.root()
        let leaf = try TestChain.issue(
            "leaf", by: root,
            extensions: try TestChain.caExtensions(
                pathLength: nil, keyUsage: KeyUsage(digitalSignature: true, keyCertSign: true)))
        let report = try await TestChain.verify(try TestChain.document(bundle: [root], leaf: leaf), trusting: root)
        #expect(chainFailure(report) == .leafIsCertificateAuthority)
    }

    @Test func leafWithoutDigitalSignatureIsRejected() async throws {
        let root = try TestChain.root()
        let leaf = try TestChain.issue(
            "leaf", by: root, extensions: try TestChain.leafExtensions(keyUsage: KeyUsage(keyEncipherment: true)))
        let report = try await TestChain.verify(try TestChain.document(bundle: [root], leaf: leaf), trusting: root)
        #expect(chainFailure(report) == .leafMissingDigitalSignature)
    }

    @Test func issuerWithoutKeyCertSignIsRejected() async throws {
        let root = try TestChain.root()
        let intermediate = try TestChain.issue(
            "ca", by: root,
            extensions: try TestChain.caExtensions(pathLength: 0, keyUsage: KeyUsage(digitalSignature: true))
        )
        let leaf = try TestChain.issue("leaf", by: intermediate, extensions: try TestChain.leafExtensions())
        let report = try await TestChain.verify(
            try TestChain.document(bundle: [root, intermediate], leaf: leaf), trusting: root)
        #expect(chainFailure(report) == .missingKeyCertSign(certificate: "cabundle[1]"))
    }

    @Test func issuerThatIsNotACAIsRejected() async throws {
        let root = try TestChain.root()
        let intermediate = try TestChain.issue("not a ca", by: root, extensions: try TestChain.leafExtensions())
        let leaf = try TestChain.issue("leaf", by: intermediate, extensions: try TestChain.leafExtensions())
        let report = try await TestChain.verify(
            try TestChain.document(bundle: [root, intermediate], leaf: leaf), trusting: root)
        #expect(chainFailure(report) == .notACertificateAuthority(certificate: "cabundle[1]"))
    }

    @Test func pathLengthConstraintIsEnforced() async throws {
        let root = try TestChain.root(pathLength: 0)
        let intermediate = try TestChain.issue("ca", by: root, extensions: try TestChain.caExtensions(pathLength: nil))
        let leaf = try TestChain.issue("leaf", by: intermediate, extensions: try TestChain.leafExtensions())
        let report = try await TestChain.verify(
            try TestChain.document(bundle: [root, intermediate], leaf: leaf), trusting: root)
        #expect(chainFailure(report) == .pathLengthExceeded(certificate: "cabundle[0]", limit: 0, following: 1))
    }

    @Test func bundleOutOfOrderIsRejected() async throws {
        let root = try TestChain.root()
        let intermediate = try TestChain.issue("ca", by: root, extensions: try TestChain.caExtensions(pathLength: 0))
        let leaf = try TestChain.issue("leaf", by: intermediate, extensions: try TestChain.leafExtensions())
        let report = try await TestChain.verify(
            try TestChain.document(bundle: [intermediate, root], leaf: leaf), trusting: root)
        guard case .untrustedRoot = chainFailure(report) else {
            Issue.record("expected untrusted root: \(report.renderedText())")
            return
        }
    }

    @Test func missingIntermediateIsNamed() async throws {
        let root = try TestChain.root()
        let intermediate = try TestChain.issue("ca", by: root, extensions: try TestChain.caExtensions(pathLength: 0))
        let leaf = try TestChain.issue("leaf", by: intermediate, extensions: try TestChain.leafExtensions())
        let report = try await TestChain.verify(try TestChain.document(bundle: [root], leaf: leaf), trusting: root)
        #expect(chainFailure(report) == .issuerMismatch(certificate: "leaf", issuer: "cabundle[0]"))
    }

    @Test func signatureByAnotherKeyWithTheSameNameIsNamed() async throws {
        let root = try TestChain.root()
        let impostor = try TestChain.root()  // same subject name, different key
        let leaf = try TestChain.issue("leaf", by: impostor, extensions: try TestChain.leafExtensions())
        let report = try await TestChain.verify(try TestChain.document(bundle: [root], leaf: leaf), trusting: root)
        #expect(chainFailure(report) == .badSignature(certificate: "leaf", issuer: "cabundle[0]"))
    }

    /// What only swift-certificates' RFC 5280 validation catches: an unknown critical extension.
    @Test func unhandledCriticalExtensionFailsRFC5280Validation() async throws {
        let root = try TestChain.root()
        let extensions = try Certificate.Extensions {
            Critical(BasicConstraints.notCertificateAuthority)
            Certificate.Extension(oid: [1, 3, 6, 1, 4, 1, 99999, 1], critical: true, value: [0x05, 0x00])
        }
        let leaf = try TestChain.issue("leaf", by: root, extensions: extensions)
        let report = try await TestChain.verify(try TestChain.document(bundle: [root], leaf: leaf), trusting: root)
        guard case .rfc5280(let reason) = chainFailure(report) else {
            Issue.record("expected an RFC 5280 failure: \(report.renderedText())")
            return
        }
        #expect(reason.contains("critical extension"))
    }

    /// notBefore after notAfter is hostile input, not a reason to trap.
    @Test func invertedValidityIsRejectedWithoutCrashing() async throws {
        let root = try TestChain.root()
        let leaf = try TestChain.issue(
            "leaf", by: root, extensions: try TestChain.leafExtensions(),
            notBefore: TestChain.now.addingTimeInterval(60), notAfter: TestChain.now.addingTimeInterval(-60)
        )
        let report = try await TestChain.verify(try TestChain.document(bundle: [root], leaf: leaf), trusting: root)
        guard case .notValidAt(let certificate, _, _, _) = chainFailure(report) else {
            Issue.record("expected a validity failure: \(report.renderedText())")
            return
        }
        #expect(certificate == "leaf")
    }

    @Test func embeddedRootIsTheAWSRootG1() throws {
        let anchors = try TrustAnchors.awsNitro()
        #expect(anchors.roots.count == 1)
        let der = try TestChain.der(anchors.roots[0])
        #expect(SHA256.hash(data: der).map { String(format: "%02x", $0) }.joined() == TrustAnchors.awsNitroRootG1SHA256)
        #expect(anchors.roots[0] == (try Certificate(pemEncoded: try Vectors.awsRootPEM())))
    }

    @Test func devRootMustBeValidPEM() {
        #expect(throws: ChainError.self) { try TrustAnchors.awsNitro(plusDevRootPEM: "not a certificate") }
    }
}
