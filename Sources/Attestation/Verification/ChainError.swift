import Foundation

/// Why the certificate chain of a document was rejected. Certificates are named by their
/// place in the document: `cabundle[i]` or `leaf` (the `certificate` field).
public enum ChainError: Error, Equatable, CustomStringConvertible {
    case invalidEmbeddedRoot(String)
    case embeddedRootFingerprint(expected: String, got: String)
    case invalidDevRoot(String)
    case unparseable(certificate: String, reason: String)
    case untrustedRoot(sha256: String)
    case issuerMismatch(certificate: String, issuer: String)
    case badSignature(certificate: String, issuer: String)
    case notValidAt(certificate: String, time: Date, notBefore: Date, notAfter: Date)
    case notACertificateAuthority(certificate: String)
    case missingKeyCertSign(certificate: String)
    case pathLengthExceeded(certificate: String, limit: Int, following: Int)
    case leafIsCertificateAuthority
    case leafMissingDigitalSignature
    case rfc5280(String)

    public var description: String {
        switch self {
        case .invalidEmbeddedRoot(let reason): "chain: embedded AWS Nitro root cannot be parsed: \(reason)"
        case .embeddedRootFingerprint(let expected, let got):
            "chain: embedded AWS Nitro root has SHA-256 \(got), expected \(expected)"
        case .invalidDevRoot(let reason): "chain: dev root PEM cannot be parsed: \(reason)"
        case .unparseable(let certificate, let reason):
            "chain: certificate \(certificate) is not valid DER X.509: \(reason)"
        case .untrustedRoot(let sha256):
            "chain: cabundle[0] (SHA-256 \(sha256)) is not a trusted root (AWS Nitro Root-G1, or a dev root passed explicitly)"
        case .issuerMismatch(let certificate, let issuer):
            "chain: certificate \(certificate) names an issuer other than the subject of \(issuer)"
        case .badSignature(let certificate, let issuer):
            "chain: signature of certificate \(certificate) does not verify with the key of \(issuer)"
        case .notValidAt(let certificate, let time, let notBefore, let notAfter):
            "chain: certificate \(certificate) not valid at \(time.iso8601) "
                + "(valid \(notBefore.iso8601) .. \(notAfter.iso8601))"
        case .notACertificateAuthority(let certificate):
            "chain: certificate \(certificate) issues a certificate but is not a CA (basicConstraints)"
        case .missingKeyCertSign(let certificate):
            "chain: certificate \(certificate) issues a certificate but its keyUsage lacks keyCertSign"
        case .pathLengthExceeded(let certificate, let limit, let following):
            "chain: certificate \(certificate) allows \(limit) CA certificates below it (pathLenConstraint), \(following) follow"
        case .leafIsCertificateAuthority: "chain: leaf certificate is a CA (basicConstraints cA=TRUE)"
        case .leafMissingDigitalSignature: "chain: leaf certificate keyUsage lacks digitalSignature"
        case .rfc5280(let reason): "chain: RFC 5280 validation (swift-certificates) failed: \(reason)"
        }
    }
}
