import Attestation
import Foundation
import GatewayCore
import OHTTP

/// A live gateway attested with a fresh random 32-byte nonce, and what that attestation pins:
/// the TLS certificate (as a `CertificatePolicy` for every later connection), the signing key
/// that must sign every answer, and the OHTTP key configurations to encrypt to.
///
/// ```swift
/// let verifier = AttestationVerifier(trustAnchors: try TrustAnchors.awsNitro())
/// let gateway = try await GatewayAttestation.attest(url: "https://gateway.example", verifier: verifier,
///                                                   measurements: try Measurements(contentsOf: file))
/// try gateway.requireValid()          // throws naming every failed check
/// let client = ObliviousClient(gateway: gateway)
/// ```
///
/// Nothing here is trusted before `isValid`: the evidence is fetched over a connection that
/// accepts any certificate (`.attestationPending`), and only the verified document makes that
/// certificate, key and configs the gateway's.
public struct GatewayAttestation: Sendable {
    public let endpoint: GatewayEndpoint
    public let evidence: GatewayEvidence
    /// The document's own checks: COSE signature, chain to the trust anchor, nonce, PCRs and the
    /// `user_data` bindings of certificate, signing key and OHTTP configs.
    public let report: VerificationReport
    /// Checks outside the document: `tee_id` names the served key, the OHTTP configs parse.
    public let checks: CheckList

    /// The document verifies and every check outside it passes.
    public var isValid: Bool { report.isValid && !checks.hasFailures }

    /// The policy for every later connection: only the attested certificate is accepted.
    public var pinnedPolicy: CertificatePolicy {
        .pinned(sha256: UserDataBinding.digest(evidence.servedCertificateDER))
    }

    /// The attested signing key: every `tee_signature` must verify with it.
    public var signingKey: InferenceVerifyingKey { evidence.signingKey }

    /// The attested OHTTP key configurations (empty when the gateway serves none).
    public var ohttpConfigs: [KeyConfig] {
        evidence.ohttpKeyConfigs.flatMap { try? KeyConfig.decodeList($0) } ?? []
    }

    /// Throws `AttestationFailed` naming each failed check unless the attestation is valid.
    public func requireValid() throws(AttestationFailed) {
        guard !isValid else { return }
        var failed = report.failures.map(\.description)
        if !report.isValid, failed.isEmpty { failed.append("the document's signature and chain were not both checked") }
        failed += checks.failures
        throw AttestationFailed(gateway: endpoint, failedChecks: failed)
    }

    /// Fetches the evidence over one connection under a fresh nonce and verifies it.
    public static func attest(
        url: String, verifier: AttestationVerifier, measurements: Measurements?
    ) async throws -> GatewayAttestation {
        let endpoint = try GatewayEndpoint(parsing: url)
        var generator = SystemRandomNumberGenerator()
        let nonce = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let evidence = try await GatewayEvidence.fetch(from: endpoint, nonce: nonce)
        let (report, checks) = await evidence.verify(with: verifier, measurements: measurements)
        return GatewayAttestation(endpoint: endpoint, evidence: evidence, report: report, checks: checks)
    }
}

/// The attestation did not verify; `failedChecks` names each failed check with expected and
/// actual values ("PCR1 mismatch: expected … got …").
public struct AttestationFailed: Error, Sendable, CustomStringConvertible {
    public let gateway: GatewayEndpoint
    public let failedChecks: [String]

    public var description: String {
        "attestation of \(gateway) failed: " + failedChecks.joined(separator: "; ")
    }
}

/// What attestation collects from a live gateway, all over one TLS connection, and how it is
/// verified.
public struct GatewayEvidence: Sendable {
    public static let attestationPath = "/enclave/attestation"
    public static let signingKeyPath = "/signing-key"
    public static let ohttpKeysPath = "/.well-known/ohttp-gateway"

    public let nonce: [UInt8]
    /// Raw COSE_Sign1, decoded from the base64 body.
    public let document: [UInt8]
    public let servedCertificateDER: [UInt8]
    public let signingKey: InferenceVerifyingKey
    /// `tee_id` as `/signing-key` states it, checked against the key.
    public let statedTEEID: String
    /// The `application/ohttp-keys` body exactly as served; nil when the gateway answered 404.
    public let ohttpKeyConfigs: [UInt8]?

    public static func fetch(from endpoint: GatewayEndpoint, nonce: [UInt8]) async throws -> GatewayEvidence {
        let (fetched, certificate) = try await GatewayConnection(endpoint: endpoint, policy: .attestationPending).run {
            session in
            let attestationPath = "\(Self.attestationPath)?nonce=\(Hex.encode(nonce))"
            let attestation = try await session.get(attestationPath, accept: "text/plain")
            let signingKey = try await session.get(Self.signingKeyPath, accept: "application/json")
            let ohttp = try await session.get(Self.ohttpKeysPath, accept: OHTTPMediaType.keys)
            return (
                try Self.document(from: attestation, path: attestationPath),
                try SigningKeyDocument(signingKey, path: Self.signingKeyPath),
                try Self.ohttpKeyConfigs(from: ohttp)
            )
        }
        return GatewayEvidence(
            nonce: nonce, document: fetched.0, servedCertificateDER: certificate, signingKey: fetched.1.key,
            statedTEEID: fetched.1.teeID, ohttpKeyConfigs: fetched.2
        )
    }

    /// Everything the attestation proves about this gateway, plus the checks outside the
    /// document: `tee_id` names the served key, and the served OHTTP configs parse.
    public func verify(with verifier: AttestationVerifier, measurements: Measurements?) async -> (VerificationReport, CheckList) {
        let expectations = AttestationExpectations(
            nonce: nonce, measurements: measurements, tlsCertificateDER: servedCertificateDER,
            signingKeySPKIDER: signingKey.spkiDER, ohttpKeyConfigs: ohttpKeyConfigs
        )
        let report = await verifier.verify(document, expecting: expectations)
        var checks = CheckList()
        checks.compare(
            "tee_id", expected: signingKey.teeID.description, actual: statedTEEID,
            passed: "\(statedTEEID) = keccak(SPKI DER of the served signing key)")
        if let ohttpKeyConfigs {
            do {
                let configs = try KeyConfig.decodeList(ohttpKeyConfigs)
                let listed = configs.map { "key_id \($0.keyID) KEM 0x\(String(format: "%04x", $0.kem.rawValue))" }
                checks.record("OHTTP key configs", .passed("served: " + listed.joined(separator: ", ")))
            } catch {
                checks.record("OHTTP key configs", .failed("\(Self.ohttpKeysPath) does not parse: \(error)"))
            }
        } else {
            checks.record("OHTTP key configs", .skipped("not served: \(Self.ohttpKeysPath) answered 404"))
        }
        return (report, checks)
    }

    private static func document(from response: GatewayConnection.Response, path: String) throws -> [UInt8] {
        guard response.status == 200 else { throw GatewayFetchError.httpStatus(path: path, status: response.status, body: response.snippet) }
        do { return try AttestationEncoding.decode(response.body) } catch {
            throw GatewayFetchError.unexpectedBody(path: path, reason: error.description)
        }
    }

    private static func ohttpKeyConfigs(from response: GatewayConnection.Response) throws -> [UInt8]? {
        if response.status == 404 { return nil }
        guard response.status == 200 else {
            throw GatewayFetchError.httpStatus(path: ohttpKeysPath, status: response.status, body: response.snippet)
        }
        return response.body
    }
}

/// The body of `GET /signing-key`: `{"public_key": PEM, "tee_id": "0x…", "ohttp": …}`.
public struct SigningKeyDocument: Sendable {
    public let key: InferenceVerifyingKey
    public let teeID: String

    public init(_ response: GatewayConnection.Response, path: String) throws {
        guard response.status == 200 else { throw GatewayFetchError.httpStatus(path: path, status: response.status, body: response.snippet) }
        let body: JSONValue
        do { body = try JSONParser().parse(response.body) } catch {
            throw GatewayFetchError.unexpectedBody(path: path, reason: error.description)
        }
        guard let pem = body["public_key"]?.stringValue else {
            throw GatewayFetchError.unexpectedBody(path: path, reason: "no string 'public_key'")
        }
        guard let teeID = body["tee_id"]?.stringValue else {
            throw GatewayFetchError.unexpectedBody(path: path, reason: "no string 'tee_id'")
        }
        do { key = try InferenceVerifyingKey(pem: pem) } catch {
            throw GatewayFetchError.unexpectedBody(path: path, reason: "'public_key': \(error)")
        }
        self.teeID = teeID
    }
}
