import GatewayCore
import Crypto
import Foundation
@_spi(FixedExpiryValidationTime) import X509

/// Validates `cabundle` + `certificate` as the exact path NSM presents (root first), then
/// re-validates it with swift-certificates' `Verifier` and `RFC5280Policy`.
///
/// The explicit walk exists to name the failing certificate (the `Verifier` only reports
/// "no valid chain") and to enforce what `RFC5280Policy` does not: `cabundle[0]` is a pinned
/// root byte for byte, issuers carry keyCertSign, and the leaf is not a CA. Neither step
/// requires Authority/Subject Key Identifiers, which real Nitro leaves lack.
struct CertificateChainCheck {
    /// A certificate and its name in the document (`cabundle[i]` or `leaf`).
    private typealias Entry = (label: String, certificate: Certificate)

    let roots: [Certificate]
    let time: Date

    func validate(certificate: [UInt8], cabundle: [[UInt8]]) async throws(ChainError) {
        var path: [Entry] = []
        for (index, der) in cabundle.enumerated() {
            path.append(("cabundle[\(index)]", try Self.parse(der, label: "cabundle[\(index)]")))
        }
        let leaf = try Self.parse(certificate, label: "leaf")
        path.append(("leaf", leaf))

        guard !cabundle.isEmpty, roots.contains(where: { $0 == path[0].certificate }) else {
            throw .untrustedRoot(sha256: Hex.encode(SHA256.hash(data: cabundle.first ?? [])))
        }
        for position in path.indices.dropFirst() { try checkIssued(path[position], by: path[position - 1]) }
        // Compared one bound at a time: a hostile certificate may have notBefore > notAfter.
        for entry in path where time < entry.certificate.notValidBefore || time > entry.certificate.notValidAfter {
            throw .notValidAt(
                certificate: entry.label, time: time,
                notBefore: entry.certificate.notValidBefore, notAfter: entry.certificate.notValidAfter
            )
        }
        for (position, entry) in path.dropLast().enumerated() {
            try checkIssuer(entry, caCertificatesBelow: path.count - 2 - position)
        }
        try checkLeaf(leaf)
        try await validateWithRFC5280Policy(leaf: leaf, cabundle: path.dropLast().map(\.certificate))
    }

    private static func parse(_ der: [UInt8], label: String) throws(ChainError) -> Certificate {
        do { return try Certificate(derEncoded: der) } catch {
            throw .unparseable(certificate: label, reason: "\(error)")
        }
    }

    private func checkIssued(_ entry: Entry, by issuer: Entry) throws(ChainError) {
        guard entry.certificate.issuer == issuer.certificate.subject else {
            throw .issuerMismatch(certificate: entry.label, issuer: issuer.label)
        }
        guard issuer.certificate.publicKey.isValidSignature(entry.certificate.signature, for: entry.certificate) else {
            throw .badSignature(certificate: entry.label, issuer: issuer.label)
        }
    }

    private func checkIssuer(
        _ entry: (label: String, certificate: Certificate), caCertificatesBelow: Int
    )
        throws(ChainError)
    {
        let constraints: BasicConstraints?
        let usage: KeyUsage?
        do {
            constraints = try entry.certificate.extensions.basicConstraints
            usage = try entry.certificate.extensions.keyUsage
        } catch {
            throw .unparseable(certificate: entry.label, reason: "\(error)")
        }
        guard case .isCertificateAuthority(let maxPathLength) = constraints else {
            throw .notACertificateAuthority(certificate: entry.label)
        }
        if let usage, !usage.keyCertSign { throw .missingKeyCertSign(certificate: entry.label) }
        if let maxPathLength, caCertificatesBelow > maxPathLength {
            throw .pathLengthExceeded(certificate: entry.label, limit: maxPathLength, following: caCertificatesBelow)
        }
    }

    private func checkLeaf(_ leaf: Certificate) throws(ChainError) {
        let constraints: BasicConstraints?
        let usage: KeyUsage?
        do {
            constraints = try leaf.extensions.basicConstraints
            usage = try leaf.extensions.keyUsage
        } catch {
            throw .unparseable(certificate: "leaf", reason: "\(error)")
        }
        if case .isCertificateAuthority = constraints { throw .leafIsCertificateAuthority }
        if let usage, !usage.digitalSignature { throw .leafMissingDigitalSignature }
    }

    private func validateWithRFC5280Policy(leaf: Certificate, cabundle: [Certificate]) async throws(ChainError) {
        var verifier = Verifier(rootCertificates: CertificateStore(roots)) {
            RFC5280Policy(fixedExpiryValidationTime: time)
        }
        let result = await verifier.validate(leaf: leaf, intermediates: CertificateStore(cabundle))
        guard case .couldNotValidate(let failures) = result else { return }
        // With no policy failure, the Verifier dropped every candidate chain before applying a
        // policy. The walk above already proved names, signatures and the root, so what is
        // left is the one other reason it drops a chain: an unhandled critical extension.
        throw .rfc5280(
            failures.first.map { "\($0.policyFailureReason)" }
                ?? "a certificate carries a critical extension that RFC 5280 validation cannot enforce"
        )
    }
}
