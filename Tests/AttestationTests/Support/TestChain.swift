import Attestation
import Crypto
import Foundation
import SwiftASN1
import X509

/// Builds hand-made certificate chains (including broken ones) and signs NSM-shaped documents
/// with them, to drive the chain checks the real documents never fail.
struct TestChain {
    struct Link {
        var certificate: Certificate
        var key: P384.Signing.PrivateKey
    }

    static let now = Date(timeIntervalSince1970: 1_770_000_000)

    static func name(_ commonName: String) throws -> DistinguishedName {
        try DistinguishedName { CommonName(commonName) }
    }

    static func caExtensions(
        pathLength: Int?, keyUsage: KeyUsage = KeyUsage(keyCertSign: true)
    ) throws
        -> Certificate.Extensions
    {
        try Certificate.Extensions {
            Critical(BasicConstraints.isCertificateAuthority(maxPathLength: pathLength))
            Critical(keyUsage)
        }
    }

    static func leafExtensions(keyUsage: KeyUsage = KeyUsage(digitalSignature: true)) throws -> Certificate.Extensions {
        try Certificate.Extensions {
            Critical(BasicConstraints.notCertificateAuthority)
            Critical(keyUsage)
        }
    }

    static func root(pathLength: Int? = nil) throws -> Link {
        let key = P384.Signing.PrivateKey()
        let subject = try name("test root")
        let certificate = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-86_400), notValidAfter: now.addingTimeInterval(86_400),
            issuer: subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA384,
            extensions: try caExtensions(pathLength: pathLength), issuerPrivateKey: .init(key)
        )
        return Link(certificate: certificate, key: key)
    }

    static func issue(
        _ commonName: String, by issuer: Link, extensions: Certificate.Extensions,
        notBefore: Date = now.addingTimeInterval(-3600), notAfter: Date = now.addingTimeInterval(3600)
    ) throws -> Link {
        let key = P384.Signing.PrivateKey()
        let certificate = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey),
            notValidBefore: notBefore, notValidAfter: notAfter,
            issuer: issuer.certificate.subject, subject: try name(commonName), signatureAlgorithm: .ecdsaWithSHA384,
            extensions: extensions, issuerPrivateKey: .init(issuer.key)
        )
        return Link(certificate: certificate, key: key)
    }

    static func der(_ certificate: Certificate) throws -> [UInt8] {
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        return serializer.serializedBytes
    }

    /// An NSM-shaped document whose `cabundle` is `bundle` (root first), signed by `leaf`.
    static func document(bundle: [Link], leaf: Link) throws -> [UInt8] {
        let payload = AttestationDocument(
            moduleID: "i-test", timestamp: UInt64(now.timeIntervalSince1970 * 1000),
            pcrs: [0: [UInt8](repeating: 0, count: 48)], certificate: try der(leaf.certificate),
            cabundle: try bundle.map { try der($0.certificate) }, publicKey: nil, userData: nil, nonce: nil
        )
        return try COSESign1(signing: payload.encoded(), with: leaf.key).encoded()
    }

    static func verify(_ document: [UInt8], trusting root: Link) async throws -> VerificationReport {
        let anchors = try TrustAnchors.awsNitro(plusDevRootPEM: try root.certificate.serializeAsPEM().pemString)
        return await AttestationVerifier(trustAnchors: anchors).verify(document)
    }
}
