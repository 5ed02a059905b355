import GatewayCore
import Crypto
import SwiftASN1
import X509

/// The trust anchors a document's `cabundle[0]` must match: the AWS Nitro Enclaves Root-G1,
/// embedded and fingerprint-checked, plus a dev root only when the caller passes one.
public struct TrustAnchors: Sendable {
    /// SHA-256 of the Root-G1 DER, as AWS publishes it (ARCHITECTURE §7).
    public static let awsNitroRootG1SHA256 = "641a0321a3e244efe456463195d606317ed7cdcc3c1756e09893f3c68f79bb5b"

    public let roots: [Certificate]

    /// Only the AWS root: what production verification must use.
    public static func awsNitro() throws(ChainError) -> TrustAnchors {
        TrustAnchors(roots: [try awsNitroRootG1()])
    }

    /// The AWS root plus a simulated NSM's dev root (`DevCertificateAuthority.rootPEM()`),
    /// for dev mode only: a dev document then verifies like a real one.
    public static func awsNitro(plusDevRootPEM pem: String) throws(ChainError) -> TrustAnchors {
        let devRoot: Certificate
        do { devRoot = try Certificate(pemEncoded: pem) } catch { throw .invalidDevRoot("\(error)") }
        return TrustAnchors(roots: [try awsNitroRootG1(), devRoot])
    }

    /// Parses the embedded PEM and refuses it unless its DER has the published fingerprint, so
    /// an edited constant cannot silently change what is trusted.
    static func awsNitroRootG1() throws(ChainError) -> Certificate {
        let document: PEMDocument
        do { document = try PEMDocument(pemString: awsNitroRootG1PEM) } catch { throw .invalidEmbeddedRoot("\(error)") }
        let fingerprint = Hex.encode(SHA256.hash(data: document.derBytes))
        guard fingerprint == awsNitroRootG1SHA256 else {
            throw .embeddedRootFingerprint(expected: awsNitroRootG1SHA256, got: fingerprint)
        }
        do { return try Certificate(derEncoded: document.derBytes) } catch { throw .invalidEmbeddedRoot("\(error)") }
    }

    private static let awsNitroRootG1PEM = """
        -----BEGIN CERTIFICATE-----
        MIICETCCAZagAwIBAgIRAPkxdWgbkK/hHUbMtOTn+FYwCgYIKoZIzj0EAwMwSTEL
        MAkGA1UEBhMCVVMxDzANBgNVBAoMBkFtYXpvbjEMMAoGA1UECwwDQVdTMRswGQYD
        VQQDDBJhd3Mubml0cm8tZW5jbGF2ZXMwHhcNMTkxMDI4MTMyODA1WhcNNDkxMDI4
        MTQyODA1WjBJMQswCQYDVQQGEwJVUzEPMA0GA1UECgwGQW1hem9uMQwwCgYDVQQL
        DANBV1MxGzAZBgNVBAMMEmF3cy5uaXRyby1lbmNsYXZlczB2MBAGByqGSM49AgEG
        BSuBBAAiA2IABPwCVOumCMHzaHDimtqQvkY4MpJzbolL//Zy2YlES1BR5TSksfbb
        48C8WBoyt7F2Bw7eEtaaP+ohG2bnUs990d0JX28TcPQXCEPZ3BABIeTPYwEoCWZE
        h8l5YoQwTcU/9KNCMEAwDwYDVR0TAQH/BAUwAwEB/zAdBgNVHQ4EFgQUkCW1DdkF
        R+eWw5b6cp3PmanfS5YwDgYDVR0PAQH/BAQDAgGGMAoGCCqGSM49BAMDA2kAMGYC
        MQCjfy+Rocm9Xue4YnwWmNJVA44fA0P5W2OpYow9OYCVRaEevL8uO1XYru5xtMPW
        rfMCMQCi85sWBbJwKKXdS6BptQFuZbT73o/gBh1qUxl/nNr12UO8Yfwr6wPLb+6N
        IwLz3/Y=
        -----END CERTIFICATE-----
        """
}
