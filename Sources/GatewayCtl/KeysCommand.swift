import ArgumentParser
import Attestation
import Crypto
import Foundation
import GatewayClient
import GatewayContracts
import GatewayCore
import OHTTP
import _CryptoExtras

/// `gatewayctl keys inject`: the operator's way to give an enclave its provider API keys.
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Provider API keys held by a gateway's key service.",
        subcommands: [Inject.self]
    )

    struct Inject: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Attest a gateway, then send it provider keys sealed to its attested key and signed by the operator.",
            discussion: """
                The keys are sealed (RFC 9458 HPKE) to the X25519 OHTTP key config the attestation \
                document binds, and signed with the operator's Ed25519 key over this boot's tee_id and \
                --counter: only that enclave boot can open them, and a replayed envelope is refused. \
                Nothing is sent unless attestation passes. The gateway's key-service must run with the \
                matching --operator-key.

                Exit status: 0 keys accepted; 1 attestation failed or the gateway refused the envelope \
                (401 signature, 409 counter not above the last, 400 malformed, 403 no operator key); \
                2 unusable input.
                """
        )

        @Option(help: ArgumentHelp("Gateway to attest and inject into.", valueName: "https://HOST[:PORT]"))
        var url: String

        @Option(
            name: .customLong("operator-key"),
            help: ArgumentHelp("The operator's Ed25519 private key (PEM, as `openssl genpkey -algorithm ed25519` writes).", valueName: "file")
        )
        var operatorKey: String

        @Option(help: "Greater than every counter this enclave boot accepted before (0 at boot); e.g. $(date +%s).")
        var counter: UInt64

        @Option(name: .customLong("secret"), help: ArgumentHelp("A key to inject (repeatable).", valueName: "name=value"))
        var secrets: [String] = []

        @Option(
            name: .customLong("secrets-file"),
            help: ArgumentHelp("A JSON object of key names to keys, instead of --secret (keeps keys out of the process list).", valueName: "file")
        )
        var secretsFile: String?

        @Option(help: ArgumentHelp("measurements.txt the image must match (PCR0/1/2, and PCR8 when present).", valueName: "file"))
        var measurements: String?

        @Option(help: ArgumentHelp("Also trust this dev root (PEM) from a simulated NSM. Never for production.", valueName: "pem-file"))
        var devRoot: String?

        func validate() throws {
            guard secrets.isEmpty != (secretsFile == nil) else {
                throw invalidInput("keys inject needs --secret NAME=VALUE (repeatable) or --secrets-file, not both")
            }
        }

        func run() async throws {
            let key = try loadOperatorKey()
            let values = try loadSecrets()
            let verifier = AttestationVerifier(trustAnchors: try loadTrustAnchors(devRoot: devRoot))
            let attested = try await attestLive(
                url: url, verifier: verifier, measurements: try measurements.map(loadMeasurements))
            let evidence = attested.evidence
            guard attested.isValid, let configs = evidence.ohttpKeyConfigs else {
                print(attested.report.renderedText())
                attested.checks.renderedLines.forEach { print($0) }
                print("keys: NOT SENT ✗ (the gateway did not pass attestation)")
                throw ExitCode(1)
            }
            guard let x25519 = try? KeyConfig.decodeList(configs).first(where: { $0.kem == .x25519HKDFSHA256 }) else {
                print("keys: NOT SENT ✗ (the attested OHTTP configs hold no X25519 key to seal to)")
                throw ExitCode(1)
            }
            let envelope = try InjectionEnvelope.seal(
                secrets: values, to: x25519, counter: counter, teeID: evidence.signingKey.teeID, operatorKey: key
            )
            // The envelope is sealed to the attested key as well, so even another server would
            // learn nothing from it.
            // The pinned policy: the envelope goes only to the attested certificate's server.
            let (response, _) = try await GatewayConnection(endpoint: attested.endpoint, policy: attested.pinnedPolicy).run { session in
                try await session.post("/v1/keys", json: envelope.encoded())
            }
            let body = String(decoding: response.body, as: UTF8.self)
            guard response.status == 200 else {
                print("keys: REFUSED ✗ HTTP \(response.status): \(body)")
                throw ExitCode(1)
            }
            print("attested:   tee_id \(evidence.signingKey.teeID)")
            print("keys: INJECTED ✓ \(body)")
        }

        private func loadOperatorKey() throws -> Curve25519.Signing.PrivateKey {
            let text = String(decoding: try readInputFile(operatorKey, what: "--operator-key"), as: UTF8.self)
            do {
                return try Curve25519.Signing.PrivateKey(pemRepresentation: text)
            } catch {
                throw invalidInput("--operator-key \(operatorKey): not an Ed25519 private key in PEM (\(error))")
            }
        }

        private func loadSecrets() throws -> [String: String] {
            var values: [String: String] = [:]
            if let secretsFile {
                let parsed: JSONValue
                do { parsed = try JSONParser().parse(try readInputFile(secretsFile, what: "--secrets-file")) } catch {
                    throw invalidInput("--secrets-file \(secretsFile): \(error)")
                }
                guard let object = parsed.objectValue else {
                    throw invalidInput("--secrets-file \(secretsFile): expected a JSON object of names to keys")
                }
                for (name, value) in object {
                    guard let key = value.stringValue else { throw invalidInput("--secrets-file: '\(name)' must be a string") }
                    values[name] = key
                }
            }
            for entry in secrets {
                let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                    throw invalidInput("--secret expects NAME=VALUE, e.g. openai_api_key=sk-…")
                }
                values[parts[0]] = parts[1]
            }
            return values
        }
    }
}
