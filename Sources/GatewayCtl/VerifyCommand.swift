import ArgumentParser
import Foundation
import GatewayClient
import GatewayCore

struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Verify a response's tee_* signature and recompute its output (and request) hash.",
        discussion: """
            Checks, in order: tee_signature is a valid RSA-PSS signature by the key over \
            keccak(tee_request_hash ‖ tee_output_hash ‖ tee_timestamp) and tee_id names that key; \
            tee_output_hash is keccak of the answer in the response (the text, or the tool calls \
            when there are any); with --request, tee_request_hash is the hash of that request body \
            (the same canonical form as `gatewayctl hash`).

            The key comes from --pem, or from GET /signing-key of --url. A key fetched with --url \
            is only the server's word: run `gatewayctl attest --url` against the same gateway to \
            prove the key belongs to an attested enclave.

            --stream: the response file is the raw SSE text of a stream (`curl -N` output): the \
            deltas and tool-call fragments are concatenated and the tee_* fields are taken from \
            the last chunk that carries them. Anthropic /v1/messages streams verify fully (text \
            deltas, and tool calls from their input_json_delta fragments, which carry the signed \
            arguments text verbatim). A non-streamed Anthropic message verifies only without \
            tool_use blocks: their `input` is re-parsed JSON, not the arguments text that was \
            signed. --request is not supported for translated Anthropic responses (the gateway \
            hashes the chat form it translates the request into). --kind anthropic is for \
            /v1/messages answers from Claude models, which the gateway passes through natively: \
            the output hash covers every content block (thinking, text, tool calls) and \
            --request checks the native Anthropic projection (docs/wire-contracts.md).

            Exit status: 0 when every check passed, 1 when a check failed, 2 when an input is \
            unusable (unreadable file, malformed JSON, missing tee_* fields, unsupported shape).
            """
    )

    enum Kind: String, ExpressibleByArgument, CaseIterable {
        case chat, completions, anthropic

        var requestKind: RequestKind {
            switch self {
            case .chat: .chat
            case .completions: .completions
            case .anthropic: .anthropicMessages
            }
        }
    }

    @Option(help: ArgumentHelp("The response body (JSON), or with --stream the SSE text.", valueName: "file"))
    var response: String

    @Option(help: ArgumentHelp("The request body that was sent, to check tee_request_hash.", valueName: "file"))
    var request: String?

    @Option(help: ArgumentHelp("Fetch the signing key from this gateway's /signing-key (unattested!).", valueName: "https://HOST[:PORT]"))
    var url: String?

    @Option(help: ArgumentHelp("The signing public key (PEM), e.g. saved from /signing-key after `attest`.", valueName: "file"))
    var pem: String?

    @Option(help: "The endpoint the request went to: chat (/v1/chat/completions), completions (/v1/completions) or anthropic (/v1/messages to a Claude model).")
    var kind: Kind = .chat

    @Flag(help: "The response file is a raw SSE stream.")
    var stream = false

    func validate() throws {
        guard (url == nil) != (pem == nil) else { throw invalidInput("verify needs exactly one of --url or --pem") }
    }

    func run() async throws {
        let responseBytes = try readInputFile(response, what: "--response")
        let signed: SignedResponse
        do {
            signed = try stream
                ? SignedResponse(stream: responseBytes, kind: kind.requestKind)
                : SignedResponse(json: responseBytes, kind: kind.requestKind)
        } catch { throw invalidInput("--response \(response): \(error)") }
        let requestHash = try request.map { try hashRequest($0, dialect: signed.dialect) }
        let key = try await loadKey()

        let checks = signed.verify(with: key, requestHash: requestHash, skippedBecause: "no --request given")

        print("key:      tee_id \(key.teeID)" + (url.map { " (from \($0)/signing-key)" } ?? " (from \(pem ?? ""))"))
        if let url {
            print("caveat:   this key is what \(url) says about itself; only `gatewayctl attest --url \(url)` proves it is an enclave's")
        }
        checks.renderedLines.forEach { print($0) }
        print("response: " + (checks.hasFailures ? "NOT VERIFIED ✗" : "VERIFIED ✓"))
        if checks.hasFailures { throw ExitCode(1) }
    }

    private func hashRequest(_ path: String, dialect: SignedResponse.Dialect) throws -> Keccak256Digest {
        guard dialect != .anthropic else {
            throw invalidInput(
                "--request with an Anthropic response is unsupported: the gateway hashes the chat form it translates "
                    + "the Anthropic request into, which this tool does not reproduce")
        }
        let body: JSONValue
        do { body = try JSONParser().parse(try readInputFile(path, what: "--request")) } catch let error as JSONParseError {
            throw invalidInput("--request \(path): \(error)")
        }
        do { return try CanonicalRequest(kind: kind.requestKind, body: body).hash } catch {
            throw invalidInput("--request \(path): not a request the gateway would sign: \(error)")
        }
    }

    private func loadKey() async throws -> InferenceVerifyingKey {
        if let pem {
            let text = String(decoding: try readInputFile(pem, what: "--pem"), as: UTF8.self)
            do { return try InferenceVerifyingKey(pem: text) } catch { throw invalidInput("--pem \(pem): \(error)") }
        }
        guard let url else { throw invalidInput("verify needs exactly one of --url or --pem") }
        do {
            let endpoint = try GatewayEndpoint(parsing: url)
            let path = GatewayEvidence.signingKeyPath
            // Unattested on purpose (the help says so): this mode trusts the server's word.
            let (document, _) = try await GatewayConnection(endpoint: endpoint, policy: .attestationPending).run { session in
                try SigningKeyDocument(try await session.get(path, accept: "application/json"), path: path)
            }
            return document.key
        } catch { throw invalidInput("\(url): \(error)") }
    }
}
