import GatewayCore
import Crypto
import Foundation
import X509

/// Verifies an NSM attestation document end to end (ARCHITECTURE §7): COSE ES384 signature
/// with the leaf key, certificate chain to a pinned root, nonce, PCR policy and the
/// `user_data` key binding. It never stops at the first failure: the report lists every
/// check, so an operator sees all that is wrong at once.
public struct AttestationVerifier: Sendable {
    public let trustAnchors: TrustAnchors
    public let limits: CBORLimits

    public init(trustAnchors: TrustAnchors, limits: CBORLimits = CBORLimits()) {
        self.trustAnchors = trustAnchors
        self.limits = limits
    }

    /// `document` is the raw COSE_Sign1 bytes (what `/dev/nsm` returns, not base64). Validity
    /// is judged at the document's own timestamp unless `expectations` pins another time;
    /// a check whose expectation is absent is reported as skipped, never as passed.
    public func verify(
        _ document: [UInt8], expecting expectations: AttestationExpectations = .init()
    ) async -> VerificationReport {
        var report = VerificationReport()
        let pcrChecks = expectations.measurements.map { $0.pcrs.keys.sorted() } ?? Measurements.requiredPCRs
        let laterChecks: [VerificationCheck] =
            [.signature, .chain, .nonce] + pcrChecks.map(VerificationCheck.pcr)
            + UserDataBinding.Entry.allCases.map(VerificationCheck.binding)

        let message: COSESign1
        let parsed: AttestationDocument
        do throws(VerificationFailure) {
            do { message = try COSESign1(decoding: document, limits: limits) } catch { throw .cose(error) }
            do { parsed = try AttestationDocument(decoding: message.payload, limits: limits) } catch {
                throw .document(error)
            }
        } catch {
            report.record(.document, .failed(error))
            for check in laterChecks { report.record(check, .skipped("the document could not be decoded")) }
            return report
        }

        let time = expectations.verificationTime ?? parsed.date
        report.moduleID = parsed.moduleID
        report.timestamp = parsed.timestamp
        report.verificationTime = time
        report.pcrs = parsed.pcrs
        report.record(.document, .passed("COSE_Sign1 (ES384) with a well-formed NSM payload"))
        report.record(.signature, Self.checkSignature(message, leafDER: parsed.certificate))
        report.record(.chain, await checkChain(parsed, at: time))
        report.record(.nonce, Self.checkNonce(parsed.nonce, expected: expectations.nonce))
        for index in pcrChecks {
            report.record(.pcr(index), Self.checkPCR(index, in: parsed, measurements: expectations.measurements))
        }
        for entry in UserDataBinding.Entry.allCases {
            report.record(
                .binding(entry), Self.checkBinding(entry, userData: parsed.userData, expectations: expectations))
        }
        return report
    }

    private static func checkSignature(_ message: COSESign1, leafDER: [UInt8]) -> CheckStatus {
        let leaf: Certificate
        do { leaf = try Certificate(derEncoded: leafDER) } catch {
            return .failed(.leafKeyUnusable("certificate is not valid DER X.509: \(error)"))
        }
        guard let key = P384.Signing.PublicKey(leaf.publicKey) else {
            return .failed(.leafKeyUnusable("not a P-384 key"))
        }
        guard message.isValidSignature(for: key) else { return .failed(.signatureInvalid) }
        return .passed("ES384 over Sig_structure with the leaf certificate's key")
    }

    private func checkChain(_ document: AttestationDocument, at time: Date) async -> CheckStatus {
        do {
            let check = CertificateChainCheck(roots: trustAnchors.roots, time: time)
            try await check.validate(certificate: document.certificate, cabundle: document.cabundle)
        } catch {
            return .failed(.chain(error))
        }
        let rootFingerprint = Hex.encode(SHA256.hash(data: document.cabundle.first ?? []))
        let root = rootFingerprint == TrustAnchors.awsNitroRootG1SHA256 ? "AWS Nitro Root-G1" : "the dev root"
        return .passed(
            "leaf and \(document.cabundle.count) CA certificates up to \(root), valid at \(time.iso8601))"
        )
    }

    private static func checkNonce(_ nonce: [UInt8]?, expected: [UInt8]?) -> CheckStatus {
        guard let expected else { return .skipped("no nonce expected") }
        guard let nonce else { return .failed(.nonceMissing(expected: expected)) }
        guard nonce == expected else { return .failed(.nonceMismatch(expected: expected, got: nonce)) }
        return .passed("matches the \(expected.count)-byte nonce sent")
    }

    private static func checkPCR(
        _ index: Int, in document: AttestationDocument, measurements: Measurements?
    )
        -> CheckStatus
    {
        guard let expected = measurements?.pcrs[index] else { return .skipped("no measurements given") }
        guard let value = document.pcrs[index] else { return .failed(.pcrMissing(index: index)) }
        guard value == expected else { return .failed(.pcrMismatch(index: index, expected: expected, got: value)) }
        return .passed("matches measurements")
    }

    private static func checkBinding(
        _ entry: UserDataBinding.Entry, userData: [UInt8]?, expectations: AttestationExpectations
    ) -> CheckStatus {
        guard let presented = expectations.presented(entry) else { return .skipped("not presented by the server") }
        guard let userData else { return .failed(.userDataMissing) }
        let binding: UserDataBinding
        do { binding = try UserDataBinding(parsing: userData) } catch { return .failed(.userData(error)) }
        guard let bound = binding.hash(of: entry) else { return .failed(.bindingEntryMissing(entry)) }
        let expected = UserDataBinding.digest(presented)
        guard bound == expected else { return .failed(.bindingMismatch(entry, expected: expected, got: bound)) }
        return .passed("sha256 \(Hex.encode(expected)) bound in user_data")
    }
}
