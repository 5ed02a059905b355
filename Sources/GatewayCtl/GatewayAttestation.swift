import Attestation
import Foundation
import GatewayCore
import OHTTP

/// A live gateway attested with a fresh random 32-byte nonce: what `attest --url` reports and
/// what `keys inject` requires before it sends anything.
struct LiveAttestation {
    let endpoint: GatewayEndpoint
    let evidence: GatewayEvidence
    let report: VerificationReport
    let checks: CheckList

    /// The document verifies and every check outside it passes.
    var isValid: Bool { report.isValid && !checks.hasFailures }

    /// An unusable `url` or an unreachable gateway is the caller's input problem (exit 2).
    static func run(url: String, verifier: AttestationVerifier, measurements: Measurements?) async throws -> LiveAttestation {
        let endpoint: GatewayEndpoint
        do { endpoint = try GatewayEndpoint(parsing: url) } catch { throw invalidInput(error.description) }
        var generator = SystemRandomNumberGenerator()
        let nonce = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let evidence: GatewayEvidence
        do { evidence = try await GatewayEvidence.fetch(from: endpoint, nonce: nonce) } catch {
            throw invalidInput("\(endpoint): \(error)")
        }
        let (report, checks) = await evidence.verify(with: verifier, measurements: measurements)
        return LiveAttestation(endpoint: endpoint, evidence: evidence, report: report, checks: checks)
    }
}

/// What `attest --url` collects from a live gateway, all over one TLS connection
/// (`GatewayConnection`), and how it is verified.
struct GatewayEvidence {
    static let attestationPath = "/enclave/attestation"
    static let signingKeyPath = "/signing-key"
    static let ohttpKeysPath = "/.well-known/ohttp-gateway"

    let nonce: [UInt8]
    /// Raw COSE_Sign1, decoded from the base64 body.
    let document: [UInt8]
    let servedCertificateDER: [UInt8]
    let signingKey: InferenceVerifyingKey
    /// `tee_id` as `/signing-key` states it, checked against the key.
    let statedTEEID: String
    /// The `application/ohttp-keys` body exactly as served; nil when the gateway answered 404.
    let ohttpKeyConfigs: [UInt8]?

    static func fetch(from endpoint: GatewayEndpoint, nonce: [UInt8]) async throws -> GatewayEvidence {
        let (fetched, certificate) = try await GatewayConnection(endpoint: endpoint).run { session in
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
    func verify(with verifier: AttestationVerifier, measurements: Measurements?) async -> (VerificationReport, CheckList) {
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
struct SigningKeyDocument {
    let key: InferenceVerifyingKey
    let teeID: String

    init(_ response: GatewayConnection.Response, path: String) throws {
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

extension GatewayConnection.Response {
    /// The start of an error body, for messages: enough to show the server's reason.
    var snippet: String { String(decoding: body.prefix(200), as: UTF8.self) }
}
