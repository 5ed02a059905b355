import ArgumentParser
import Attestation
import Foundation
import GatewayClient
import GatewayCore
import OHTTP

struct OHTTPCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ohttp",
        abstract: "Attest a gateway, then send one inference request through Oblivious HTTP and verify the answer.",
        discussion: """
            Attests --url with a fresh nonce (as `attest --url` does), then seals the request to the \
            attested OHTTP key config of --suite (RFC 9458; --chunked-request sends \
            message/ohttp-chunked-req), posts it to the gateway's /v1/ohttp or to --relay, opens the \
            answer with the request's own HPKE context, and verifies its tee_* signature with the \
            attested signing key, recomputing the request and output hashes. The connection to the \
            gateway accepts only the TLS certificate the attestation binds; a relay's certificate is \
            checked against the system's CA roots.

            The inner request is Binary HTTP (--bhttp, the default: any route, the answer carries \
            its status) or upstream's raw JSON chat body (--json: POST /v1/chat/completions only). \
            Without --body the request is a chat completion of --prompt for --model; --stream sets \
            "stream": true and prints each event as its sealed chunk is opened.

            Exit status: 0 when attestation passed and the answer verified (or is an unsigned 2xx \
            answer such as /v1/models); 1 when a check failed, the gateway refused the request, or \
            the inner request failed (the report names it); 2 when an input is unusable.
            """
    )

    enum Suite: String, ExpressibleByArgument, CaseIterable {
        case x25519, xwing

        var kem: HPKEKEM { self == .x25519 ? .x25519HKDFSHA256 : .xWing }
    }

    @Option(help: ArgumentHelp("Gateway to attest and query.", valueName: "https://HOST[:PORT]"))
    var url: String

    @Option(help: ArgumentHelp("Send the encapsulated request through this OHTTP relay.", valueName: "https://HOST[:PORT][/PATH]"))
    var relay: String?

    @Option(help: "HPKE suite: x25519 (upstream's X25519/ChaCha20-Poly1305) or xwing (post-quantum X-Wing/AES-256-GCM).")
    var suite: Suite = .xwing

    @Flag(help: "Inner request encoding: Binary HTTP (default) or upstream's raw JSON chat body.")
    var encoding: ObliviousRequest.Encoding = .binaryHTTP

    @Flag(help: "Ask for a streamed answer (\"stream\": true); it arrives as message/ohttp-chunked-res.")
    var stream = false

    @Flag(help: "Send the request as message/ohttp-chunked-req (several sealed chunks).")
    var chunkedRequest = false

    @Option(help: "The inner request's path (Binary HTTP only).")
    var path = "/v1/chat/completions"

    @Option(help: "The inner request's method (Binary HTTP only).")
    var method = "POST"

    @Option(help: ArgumentHelp("The inner request body (JSON) instead of a chat completion of --prompt.", valueName: "file"))
    var body: String?

    @Option(help: "The user message of the default chat request.")
    var prompt = "Say hello through Oblivious HTTP."

    @Option(help: "The model of the default chat request.")
    var model = "local"

    @Option(help: ArgumentHelp("measurements.txt of the expected image: PCR0/1/2 (and PCR8 when present) must match.", valueName: "file"))
    var measurements: String?

    @Option(help: ArgumentHelp("Also trust this dev root (PEM) from a simulated NSM. Never for production.", valueName: "pem-file"))
    var devRoot: String?

    func validate() throws {
        if encoding == .json, path != "/v1/chat/completions" || method != "POST" {
            throw invalidInput("--json reaches only POST /v1/chat/completions; use --bhttp for \(method) \(path)")
        }
    }

    func run() async throws {
        let verifier = AttestationVerifier(trustAnchors: try loadTrustAnchors(devRoot: devRoot))
        let relayTarget: RelayTarget?
        do { relayTarget = try relay.map { try RelayTarget(parsing: $0) } } catch { throw invalidInput("--relay: \(error)") }
        let requestBody = try self.requestBody()
        let attested = try await attestLive(url: url, verifier: verifier, measurements: try measurements.map(loadMeasurements))
        print("gateway:     \(attested.endpoint)")
        print(attested.report.renderedText())
        attested.checks.renderedLines.forEach { print($0) }
        if measurements == nil { print(AttestCommand.noMeasurementsNote) }

        let client: ObliviousClient
        do { client = try ObliviousClient(gateway: attested, relay: relayTarget) } catch {
            print("ohttp: NOT SENT ✗ (\(error))")
            throw ExitCode(1)
        }
        let request = ObliviousRequest(method: method, path: path, body: requestBody, encoding: encoding, chunked: chunkedRequest)
        let answer: ObliviousAnswer
        do {
            answer = try await client.send(request, kem: suite.kem) { event in
                print("event:       \(event.data)")
            }
        } catch let error as ObliviousClientError {
            print("ohttp: FAILED ✗ \(error)")
            throw ExitCode(1)
        } catch let error as ResponseError {
            print("ohttp: FAILED ✗ \(error)")
            throw ExitCode(1)
        } catch let error as GatewayFetchError {
            print("ohttp: FAILED ✗ \(error)")
            throw ExitCode(1)
        }

        print("sent:        \(chunkedRequest ? OHTTPMediaType.chunkedRequest : OHTTPMediaType.request), \(answer.suite), "
            + "inner \(encoding == .binaryHTTP ? "Binary HTTP" : "raw JSON") \(method) \(path)"
            + (relayTarget.map { " via relay \($0.endpoint)\($0.path)" } ?? ""))
        print("received:    \(answer.streamed ? "streamed, " : "")\(answer.sealedChunks) sealed chunk\(answer.sealedChunks == 1 ? "" : "s"), "
            + "inner status \(answer.status == 0 ? "error" : String(answer.status))")
        if !answer.streamed { print(String(decoding: answer.body, as: UTF8.self)) }
        answer.checks.renderedLines.forEach { print($0) }
        let succeeded = (200..<300).contains(answer.status)
        switch (succeeded, answer.signed) {
        case (false, _): print("answer: NOT VERIFIED ✗ (the inner request failed)")
        case (true, false): print("answer: unsigned (this route's answers carry no tee_* fields)")
        case (true, true): print("answer: " + (answer.isVerified ? "VERIFIED ✓" : "NOT VERIFIED ✗"))
        }
        if !succeeded || (answer.signed && !answer.isVerified) { throw ExitCode(1) }
    }

    private func requestBody() throws -> [UInt8] {
        if let body { return try readInputFile(body, what: "--body") }
        guard method == "POST" else { return [] }
        var fields: [(String, JSONValue)] = [
            ("model", .string(model)), ("messages", [["role": "user", "content": .string(prompt)]]),
        ]
        if path == "/v1/messages" { fields.append(("max_tokens", 256)) }
        if stream { fields.append(("stream", true)) }
        return JSONWriter.serialize(.object(JSONObject(fields)), style: .compact)
    }
}

extension ObliviousRequest.Encoding: EnumerableFlag {
    public static func name(for value: Self) -> NameSpecification {
        switch value {
        case .binaryHTTP: .customLong("bhttp")
        case .json: .customLong("json")
        }
    }
}
