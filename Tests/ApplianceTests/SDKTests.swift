import Foundation
import Testing

/// The inference API as real clients see it: the unchanged official `openai` and `anthropic`
/// Python SDKs, and curl, against one dev appliance over HTTPS. Every signed answer is checked by
/// `Clients/tee_verify.py`, a verifier written from the docs alone (no code shared with the
/// gateway), on the exact bytes that went over the wire.
///
/// The appliance is slow to start, so one test drives every scenario against it; each scenario
/// records its own issues, so one failure does not hide the others.
@Suite("official SDKs against a dev appliance", .serialized)
struct SDKTests {
    /// Small enough to exceed cheaply, large enough for every SDK scenario.
    static let workerBodyLimit = 65_536
    /// tls-front's default `--max-body` (the supervisor has no option to change it).
    static let frontBodyLimit = 32 * 1024 * 1024

    static let openAIScenarios = [
        "chat_nonstream", "chat_stream", "tool_call_nonstream", "tool_call_stream", "structured_json_schema",
        "structured_json_object", "completions", "error_unknown_model", "error_invalid_role",
    ]
    static let anthropicScenarios = [
        "messages_nonstream", "messages_stream", "tool_use", "count_tokens", "error_invalid_request",
        "error_unknown_model",
    ]

    @Test func sdksCurlAndVerifiersAgainstOneAppliance() async throws {
        try await ApplianceHarness.run(workers: 2, workerArguments: ["--max-body", String(Self.workerBodyLimit)]) {
            appliance in
            let files = try ScratchDirectory(under: appliance.runtimeDirectory)
            try runClient("openai_client.py", expecting: Self.openAIScenarios, appliance)
            try runClient("anthropic_client.py", expecting: Self.anthropicScenarios, appliance)
            try verifierRejectsTampering(appliance, files)
            try malformedJSONIsA400WithThePosition(appliance)
            try unknownPathIsAJSON404(appliance)
            try oversizedBodiesAre413(appliance, files)
            try gatewayctlVerifiesASavedCurlResponse(appliance, files)
        }
    }

    // MARK: - Official SDKs

    /// Runs a client script; every expected scenario must print an `"ok": true` line, so a script
    /// that skips a scenario (or dies early) fails here even if it exited 0.
    private func runClient(_ script: String, expecting scenarios: [String], _ appliance: ApplianceHarness) throws {
        let result = try run(python(), [clientScript(script), appliance.url, appliance.certificatePath])
        #expect(result.status == 0, "\(script) exited \(result.status):\n\(result.stdout)\n\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
        }
        for scenario in scenarios {
            let line = lines.first { $0["scenario"] as? String == scenario }
            #expect(line != nil, "\(script) printed no line for \(scenario):\n\(result.stdout)")
            if let line {
                #expect(line["ok"] as? Bool == true, "\(script) \(scenario): \(line["error"] ?? "not ok")")
            }
        }
        let failed = lines.first { $0["failed"] != nil }?["failed"] as? [String]
        #expect(failed == [], "\(script) summary: \(String(describing: failed))")
    }

    // MARK: - The verifier can fail

    /// A verifier that accepts anything proves nothing: one changed byte in the answer, the
    /// request or the timestamp must each be rejected, naming the check that failed.
    private func verifierRejectsTampering(_ appliance: ApplianceHarness, _ files: ScratchDirectory) throws {
        let request = #"{"model":"local","messages":[{"role":"user","content":"Verify me, byte for byte"}]}"#
        let response = try appliance.curl("/v1/chat/completions", body: request)
        try #require(response.status == 0, "curl: \(response.stderr)")
        let requestFile = try files.write("tamper-request.json", request)

        func verify(_ body: String, request: String = requestFile, stream: Bool = false) throws -> CommandResult {
            let arguments = [
                clientScript("tee_verify.py"), "--url", appliance.url, "--cacert", appliance.certificatePath,
                "--route", "chat", "--request", request, "--response", try files.write("tampered", body),
            ]
            return try run(python(), arguments + (stream ? ["--stream"] : []))
        }

        let intact = try verify(response.stdout)
        #expect(intact.status == 0 && intact.stdout.contains(#""verified": true"#), "intact: \(intact.stdout)")

        let answer = try oneByteChanged(response.stdout, in: "byte for byte", to: "byte for bytf")
        let tamperedAnswer = try verify(answer)
        #expect(tamperedAnswer.status == 1, "a changed answer byte verified: \(tamperedAnswer.stdout)")
        #expect(tamperedAnswer.stdout.contains("tee_output_hash"), "\(tamperedAnswer.stdout)")

        let otherRequest = try files.write(
            "tamper-request-2.json", try oneByteChanged(request, in: "Verify me", to: "Verify mf"))
        let tamperedRequest = try verify(response.stdout, request: otherRequest)
        #expect(tamperedRequest.status == 1, "a changed request byte verified: \(tamperedRequest.stdout)")
        #expect(tamperedRequest.stdout.contains("tee_request_hash"), "\(tamperedRequest.stdout)")

        let timestamp = try #require(response.stdout.firstMatch(of: /"tee_timestamp":(\d+)/)?.1)
        let next = try #require(Int(timestamp)) + 1
        let later = response.stdout.replacingOccurrences(
            of: #""tee_timestamp":\#(timestamp)"#, with: #""tee_timestamp":\#(next)"#)
        let tamperedTime = try verify(later)
        #expect(tamperedTime.status == 1, "a changed timestamp verified: \(tamperedTime.stdout)")
        #expect(tamperedTime.stdout.contains("tee_signature"), "\(tamperedTime.stdout)")

        // The same for a stream: one byte of one delta.
        let streamRequest =
            #"{"model":"local","stream":true,"messages":[{"role":"user","content":"Verify me, byte for byte"}]}"#
        let stream = try appliance.curl("/v1/chat/completions", body: streamRequest, extra: ["-N"])
        let streamRequestFile = try files.write("tamper-stream-request.json", streamRequest)
        let intactStream = try verify(stream.stdout, request: streamRequestFile, stream: true)
        #expect(intactStream.status == 0, "intact stream: \(intactStream.stdout)")
        let tamperedStream = try verify(
            try oneByteChanged(stream.stdout, in: #""content":"Verify "#, to: #""content":"Verifz "#),
            request: streamRequestFile, stream: true)
        #expect(tamperedStream.status == 1, "a changed stream delta verified: \(tamperedStream.stdout)")
        #expect(tamperedStream.stdout.contains("tee_output_hash"), "\(tamperedStream.stdout)")
    }

    private func oneByteChanged(_ text: String, in original: String, to changed: String) throws -> String {
        try #require(original.utf8.count == changed.utf8.count)
        try #require(zip(original.utf8, changed.utf8).filter { $0 != $1 }.count == 1)
        try #require(text.components(separatedBy: original).count == 2, "'\(original)' not exactly once in \(text)")
        return text.replacingOccurrences(of: original, with: changed)
    }

    // MARK: - HTTPS error paths with curl

    private func malformedJSONIsA400WithThePosition(_ appliance: ApplianceHarness) throws {
        let body = #"{"model": "local", "messages": [}"#
        let reply = try appliance.reply("/v1/chat/completions", body: body)
        #expect(reply.status == 400)
        let error = reply.error
        #expect(error?["type"] as? String == "invalid_request_error", "\(reply.body)")
        let message = error?["message"] as? String ?? ""
        let offset = body.utf8.count - 1  // the stray `}` where a value must start
        #expect(
            message.contains("line 1, column \(offset + 1)") && message.contains("byte \(offset)"),
            "position missing: \(message)")
    }

    private func unknownPathIsAJSON404(_ appliance: ApplianceHarness) throws {
        let reply = try appliance.reply("/v1/no-such-route")
        #expect(reply.status == 404)
        #expect(reply.contentType.hasPrefix("application/json"), "content-type \(reply.contentType)")
        let message = reply.error?["message"] as? String ?? ""
        #expect(message.contains("/v1/no-such-route"), "message does not name the path: \(reply.body)")
    }

    /// Over the worker's limit (set small via `--worker-arg`), and over tls-front's default 32 MiB,
    /// which it refuses by `Content-Length` before reading the body.
    private func oversizedBodiesAre413(_ appliance: ApplianceHarness, _ files: ScratchDirectory) throws {
        let overWorker = Self.chatBody(contentBytes: Self.workerBodyLimit + 1)
        let workerReply = try appliance.reply("/v1/chat/completions", body: overWorker)
        #expect(workerReply.status == 413, "\(workerReply.body)")
        let workerMessage = workerReply.error?["message"] as? String ?? ""
        #expect(workerMessage.contains("\(Self.workerBodyLimit)"), "\(workerReply.body)")

        let huge = try files.write("huge.json", Self.chatBody(contentBytes: Self.frontBodyLimit + 1))
        let frontReply = try appliance.reply(
            "/v1/chat/completions", extra: ["-H", "Content-Type: application/json", "--data-binary", "@" + huge])
        #expect(frontReply.status == 413, "\(frontReply.body)")
        let frontMessage = frontReply.error?["message"] as? String ?? ""
        #expect(frontMessage.contains("\(Self.frontBodyLimit)"), "\(frontReply.body)")

        // The appliance still answers afterwards.
        let after = try appliance.reply("/v1/chat/completions", body: Self.chatBody(contentBytes: 10))
        #expect(after.status == 200, "\(after.body)")
    }

    static func chatBody(contentBytes: Int) -> String {
        #"{"model":"local","messages":[{"role":"user","content":""# + String(repeating: "x", count: contentBytes)
            + #""}]}"#
    }

    // MARK: - gatewayctl verify

    private func gatewayctlVerifiesASavedCurlResponse(_ appliance: ApplianceHarness, _ files: ScratchDirectory) throws {
        let request = #"{"model":"local","temperature":0.25,"messages":[{"role":"user","content":"Sign this: ✓"}]}"#
        let response = try appliance.curl("/v1/chat/completions", body: request)
        try #require(response.status == 0, "curl: \(response.stderr)")
        let requestFile = try files.write("gatewayctl-request.json", request)
        let responseFile = try files.write("gatewayctl-response.json", response.stdout)
        let gatewayctl = executable("gatewayctl")

        let verified = try run(
            gatewayctl, ["verify", "--response", responseFile, "--request", requestFile, "--url", appliance.url])
        #expect(verified.status == 0, "gatewayctl verify: \(verified.stdout)\(verified.stderr)")
        #expect(verified.stdout.contains("VERIFIED"), "\(verified.stdout)")

        let streamRequest = #"{"model":"local","stream":true,"messages":[{"role":"user","content":"Sign this: ✓"}]}"#
        let stream = try appliance.curl("/v1/chat/completions", body: streamRequest, extra: ["-N"])
        let streamVerified = try run(
            gatewayctl,
            [
                "verify", "--stream", "--response", try files.write("gatewayctl-stream.sse", stream.stdout),
                "--request", try files.write("gatewayctl-stream-request.json", streamRequest), "--url", appliance.url,
            ])
        #expect(streamVerified.status == 0, "verify --stream: \(streamVerified.stdout)\(streamVerified.stderr)")

        // Both verifiers must agree that a changed answer does not verify.
        let tampered = try files.write(
            "gatewayctl-tampered.json", try oneByteChanged(response.stdout, in: "Sign this", to: "Sign thiz"))
        let rejected = try run(
            gatewayctl, ["verify", "--response", tampered, "--request", requestFile, "--url", appliance.url])
        #expect(rejected.status == 1, "gatewayctl accepted a changed answer: \(rejected.stdout)")
    }
}

/// A curl result with `-w` status and content type appended, split back apart.
private struct HTTPReply {
    let status: Int
    let contentType: String
    let body: String

    /// `error` of an OpenAI-shaped error body.
    var error: [String: Any]? {
        ((try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any])?["error"] as? [String: Any]
    }

    init(_ result: CommandResult) throws {
        try #require(result.status == 0, "curl failed: \(result.stderr)")
        let parts = result.stdout.components(separatedBy: Self.marker)
        try #require(parts.count == 2, "no status marker in curl output: \(result.stdout)")
        body = parts[0]
        let trailer = parts[1].split(separator: " ", maxSplits: 1).map(String.init)
        status = Int(trailer.first ?? "") ?? -1
        contentType = trailer.count > 1 ? trailer[1] : ""
    }

    static let marker = "\n--http-status--"
}

extension ApplianceHarness {
    /// `curl` with the status and content type kept apart from the body.
    fileprivate func reply(_ path: String, body: String? = nil, extra: [String] = []) throws -> HTTPReply {
        try HTTPReply(curl(path, body: body, extra: extra + ["-w", HTTPReply.marker + "%{http_code} %{content_type}"]))
    }
}

/// Files the checks hand to verifiers, inside the appliance's runtime directory (removed with it).
private struct ScratchDirectory {
    let path: String

    init(under parent: String) throws {
        path = parent + "/sdk-tests"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func write(_ name: String, _ contents: String) throws -> String {
        let file = path + "/" + name
        try Data(contents.utf8).write(to: URL(fileURLWithPath: file))
        return file
    }
}
