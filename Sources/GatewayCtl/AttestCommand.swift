import ArgumentParser
import Attestation
import Foundation
import GatewayClient
import GatewayCore

struct AttestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attest",
        abstract: "Verify a gateway's Nitro attestation: live (--url) or a saved document (--document).",
        discussion: """
            --url https://HOST[:PORT] sends a fresh random 32-byte nonce to /enclave/attestation, \
            fetches /signing-key and /.well-known/ohttp-gateway over the same TLS connection, and \
            checks that the document is signed by AWS Nitro (COSE ES384, certificate chain to the \
            pinned AWS Nitro Root-G1), echoes the nonce, carries the expected PCRs, and binds in \
            user_data the TLS certificate that connection presented, the signing key and the OHTTP \
            key configs; also that tee_id is keccak of the signing key. The TLS certificate is \
            self-signed: it is trusted only because the attestation binds it. A gateway that does \
            not serve OHTTP keys (404) is reported as such and that binding is skipped.

            --document FILE verifies a saved document offline (base64 as served, with or without a \
            trailing newline, or raw CBOR), at --at or the document's own timestamp. Real Nitro \
            certificates live about three hours, so an old document needs --at.

            Without --measurements the PCRs are not compared: the report then proves "some Nitro \
            enclave", not which image (a debug-mode enclave has PCR0-2 all zero). Pass the \
            measurements.txt of the image you expect (from `nitro-cli build-enclave`).

            Exit status: 0 when every check that could run passed, 1 when a check failed (the report \
            names it with the expected and actual values), 2 when the input is unusable (unreadable \
            file, not base64/CBOR, bad --at/--nonce/--measurements/--dev-root, gateway unreachable).
            """
    )

    @Option(help: ArgumentHelp("Gateway to attest live.", valueName: "https://HOST[:PORT]"))
    var url: String?

    @Option(help: ArgumentHelp("Saved attestation document to verify offline.", valueName: "file"))
    var document: String?

    @Option(help: ArgumentHelp("With --document: evaluate certificate validity at this time (ISO 8601, e.g. 2026-02-07T09:54:16Z).", valueName: "time"))
    var at: String?

    @Option(help: ArgumentHelp("With --document: the nonce the document must carry, in hex.", valueName: "hex"))
    var nonce: String?

    @Option(help: ArgumentHelp("measurements.txt of the expected image: PCR0/1/2 (and PCR8 when present) must match.", valueName: "file"))
    var measurements: String?

    @Option(help: ArgumentHelp("Also trust this dev root (PEM) from a simulated NSM. Never for production.", valueName: "pem-file"))
    var devRoot: String?

    @Flag(help: "Print the report as JSON.")
    var json = false

    func validate() throws {
        guard (url == nil) != (document == nil) else { throw invalidInput("attest needs exactly one of --url or --document") }
        if url != nil, at != nil || nonce != nil {
            throw invalidInput("--at and --nonce apply to --document; --url always uses the current time and a fresh nonce")
        }
    }

    func run() async throws {
        let verifier = AttestationVerifier(trustAnchors: try loadTrustAnchors(devRoot: devRoot))
        let expected = try measurements.map(loadMeasurements)
        if let document {
            try await verifyDocument(document, verifier: verifier, measurements: expected)
        } else if let url {
            try await attestGateway(url, verifier: verifier, measurements: expected)
        }
    }

    private func verifyDocument(_ path: String, verifier: AttestationVerifier, measurements: Measurements?) async throws {
        let document: [UInt8]
        do { document = try AttestationEncoding.decode(try readInputFile(path, what: "--document")) } catch let error as AttestationEncodingError {
            throw invalidInput("\(path): \(error)")
        }
        let expectations = AttestationExpectations(
            nonce: try nonce.map { try decodeHex($0, option: "--nonce") }, measurements: measurements,
            verificationTime: try at.map(parseTime)
        )
        let report = await verifier.verify(document, expecting: expectations)
        if json {
            print(try encodeJSON(report))
        } else {
            print(report.renderedText())
            if measurements == nil { print(Self.noMeasurementsNote) }
        }
        if !report.isValid { throw ExitCode(1) }
    }

    private func attestGateway(_ url: String, verifier: AttestationVerifier, measurements: Measurements?) async throws {
        let attested = try await attestLive(url: url, verifier: verifier, measurements: measurements)
        let (endpoint, evidence, report, checks) = (attested.endpoint, attested.evidence, attested.report, attested.checks)
        let nonce = evidence.nonce
        let valid = attested.isValid
        if json {
            print(try encodeJSON(GatewayReportJSON(
                valid: valid, url: endpoint.description, nonce: Hex.encode(nonce),
                tlsCertificateSHA256: Hex.encode(UserDataBinding.digest(evidence.servedCertificateDER)),
                teeID: evidence.signingKey.teeID.description, attestation: report, checks: checks,
                pcrsCompared: measurements != nil
            )))
        } else {
            print("gateway:     \(endpoint)")
            print("nonce:       \(Hex.encode(nonce)) (fresh, 32 bytes)")
            print("TLS cert:    sha256 \(Hex.encode(UserDataBinding.digest(evidence.servedCertificateDER))) (as served on this connection)")
            print("signing key: tee_id \(evidence.signingKey.teeID)")
            print(report.renderedText())
            checks.renderedLines.forEach { print($0) }
            if measurements == nil { print(Self.noMeasurementsNote) }
            print("gateway: " + (valid ? "VERIFIED ✓" : "NOT VERIFIED ✗"))
        }
        if !valid { throw ExitCode(1) }
    }

    static let noMeasurementsNote =
        "note: PCRs not compared (no --measurements): this proves a genuine Nitro enclave, not which image runs in it"

    private func parseTime(_ text: String) throws -> Date {
        for options in [ISO8601DateFormatter.Options.withInternetDateTime, [.withInternetDateTime, .withFractionalSeconds]] {
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = options
            if let date = formatter.date(from: text) { return date }
        }
        throw invalidInput("--at '\(text)' is not an ISO 8601 time such as 2026-02-07T09:54:16Z")
    }
}

/// `attest --url --json`: the library's report under "attestation", this tool's checks under
/// "checks", and "valid" for both together.
private struct GatewayReportJSON: Encodable {
    let valid: Bool
    let url: String
    let nonce: String
    let tlsCertificateSHA256: String
    let teeID: String
    let attestation: VerificationReport
    let checks: CheckList
    let pcrsCompared: Bool

    enum CodingKeys: String, CodingKey {
        case valid, url, nonce, attestation, checks
        case tlsCertificateSHA256 = "tls_certificate_sha256"
        case teeID = "tee_id"
        case pcrsCompared = "pcrs_compared"
    }
}

/// The pinned AWS Nitro root, plus a simulated NSM's dev root only when one is named.
func loadTrustAnchors(devRoot: String?) throws -> TrustAnchors {
    do {
        guard let devRoot else { return try TrustAnchors.awsNitro() }
        let pem = String(decoding: try readInputFile(devRoot, what: "--dev-root"), as: UTF8.self)
        return try TrustAnchors.awsNitro(plusDevRootPEM: pem)
    } catch let error as ChainError {
        throw invalidInput("--dev-root \(devRoot ?? ""): \(error)")
    }
}

func loadMeasurements(_ path: String) throws -> Measurements {
    do { return try Measurements(contentsOf: URL(fileURLWithPath: path)) } catch {
        throw invalidInput("--measurements \(path): \(error)")
    }
}

/// A file named on the command line; unreadable is the caller's mistake (exit 2).
func readInputFile(_ path: String, what option: String, limit: Int = 64 * 1024 * 1024) throws -> [UInt8] {
    let data: Data
    do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
        throw invalidInput("\(option) \(path): cannot read: \(error.localizedDescription)")
    }
    guard data.count <= limit else { throw invalidInput("\(option) \(path): \(data.count) bytes, more than \(limit)") }
    return Array(data)
}

func decodeHex(_ text: String, option: String) throws -> [UInt8] {
    do { return try Hex.decode(text) } catch { throw invalidInput("\(option): \(error)") }
}

func encodeJSON(_ value: some Encodable) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}

/// `GatewayAttestation.attest`, with an unusable URL or an unreachable gateway reported as the
/// caller's input problem (exit 2).
func attestLive(url: String, verifier: AttestationVerifier, measurements: Measurements?) async throws -> GatewayAttestation {
    do {
        return try await GatewayAttestation.attest(url: url, verifier: verifier, measurements: measurements)
    } catch let error as GatewayFetchError {
        if case .invalidURL = error { throw invalidInput(error.description) }
        throw invalidInput("\(url): \(error)")
    } catch {
        throw invalidInput("\(url): \(error)")
    }
}
