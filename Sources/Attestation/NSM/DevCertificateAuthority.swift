import Crypto
import Foundation
import SwiftASN1
import X509

/// A throw-away P-384 CA chain (root → intermediate) that signs simulated NSM documents.
///
/// Its certificates mirror the real Nitro PKI's profile, including what strict RFC 5280
/// profiles would reject (no Authority/Subject Key Identifiers), so dev mode exercises the
/// same verifier paths as production. The root is made per process: export `rootPEM` to the
/// verifying side (`gatewayctl attest --dev-root`), which must opt in to trust it.
public struct DevCertificateAuthority: Sendable {
    /// How long a leaf lives, like real NSM leaves (about three hours).
    public static let leafLifetime: TimeInterval = 3 * 3600
    static let caLifetime: TimeInterval = 365 * 24 * 3600

    public let root: Certificate
    public let intermediate: Certificate
    private let intermediateKey: P384.Signing.PrivateKey

    public init(now: Date = Date()) throws {
        let rootKey = P384.Signing.PrivateKey()
        let rootName = try Self.name("dev.nitro-enclaves")
        let start = now.addingTimeInterval(-3600)
        root = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(rootKey.publicKey),
            notValidBefore: start, notValidAfter: now.addingTimeInterval(Self.caLifetime),
            issuer: rootName, subject: rootName, signatureAlgorithm: .ecdsaWithSHA384,
            extensions: try Self.caExtensions(maxPathLength: 1), issuerPrivateKey: .init(rootKey)
        )
        intermediateKey = P384.Signing.PrivateKey()
        intermediate = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(intermediateKey.publicKey),
            notValidBefore: start, notValidAfter: now.addingTimeInterval(Self.caLifetime),
            issuer: rootName, subject: try Self.name("instance.dev.nitro-enclaves"),
            signatureAlgorithm: .ecdsaWithSHA384,
            extensions: try Self.caExtensions(maxPathLength: 0), issuerPrivateKey: .init(rootKey)
        )
    }

    /// The root certificate in PEM, the form `--dev-root` takes.
    public func rootPEM() throws -> String { try root.serializeAsPEM().pemString }

    /// DER of root and intermediate in NSM's `cabundle` order (root first).
    func caBundle() throws -> [[UInt8]] { [try Self.der(root), try Self.der(intermediate)] }

    /// A fresh signing leaf, valid from just before `now` for `leafLifetime`.
    func issueLeaf(commonName: String, now: Date) throws -> (certificate: [UInt8], key: P384.Signing.PrivateKey) {
        let key = P384.Signing.PrivateKey()
        let leaf = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-3), notValidAfter: now.addingTimeInterval(Self.leafLifetime),
            issuer: intermediate.subject, subject: try Self.name(commonName), signatureAlgorithm: .ecdsaWithSHA384,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
            },
            issuerPrivateKey: .init(intermediateKey)
        )
        return (try Self.der(leaf), key)
    }

    static func der(_ certificate: Certificate) throws -> [UInt8] {
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        return serializer.serializedBytes
    }

    private static func name(_ commonName: String) throws -> DistinguishedName {
        try DistinguishedName {
            CountryName("US")
            OrganizationName("enclave-gateway")
            OrganizationalUnitName("simulated NSM")
            CommonName(commonName)
        }
    }

    private static func caExtensions(maxPathLength: Int) throws -> Certificate.Extensions {
        try Certificate.Extensions {
            Critical(BasicConstraints.isCertificateAuthority(maxPathLength: maxPathLength))
            Critical(KeyUsage(keyCertSign: true, cRLSign: true))
        }
    }
}
