import Foundation
import GatewayCore
import Testing
import UpstreamMock

/// The official `anthropic` and `openai` Python SDKs, unchanged, against a worker whose
/// providers are a recording mock: extended thinking (plain, streamed, and sent back in a
/// multi-turn tool conversation), prompt-caching usage, Anthropic's own token count, and
/// OpenAI logprobs. Signed answers are checked by the independent `tee_verify.py`.
@Suite("official SDKs through the worker (API fidelity)", .serialized)
struct SDKFidelityTests {
    static let logprobsStream = [
        sse(#"{"id":"c","object":"chat.completion.chunk","created":1,"model":"gpt-4.1","choices":[{"index":0,"delta":{"role":"assistant","content":"Hi"},"logprobs":{"content":[{"token":"Hi","logprob":-0.25,"bytes":[72,105],"top_logprobs":[{"token":"Hi","logprob":-0.25,"bytes":[72,105]},{"token":"Hello","logprob":-1.5,"bytes":[72,101,108,108,111]}]}]},"finish_reason":null}]}"#),
        OpenAIWire.chunk("{}", finish: "stop"), OpenAIWire.usage, OpenAIWire.done,
    ]

    @Test func officialSDKsSeeEveryField() async throws {
        let replies: [MockUpstream.Reply] = [
            .json(status: 200, ClaudeWire.thinkingMessage),
            .sse(ClaudeWire.thinkingStream),
            .sse(ClaudeWire.thinkingStream),
            .json(status: 200, ClaudeWire.message(#"[{"type":"text","text":"Done: 12231"}]"#)),
            .json(status: 200, ClaudeWire.message(
                #"[{"type":"text","text":"ok"}]"#,
                usage: #"{"input_tokens":5,"output_tokens":1,"cache_creation_input_tokens":1200,"cache_read_input_tokens":3400}"#)),
            .json(status: 200, #"{"input_tokens":17}"#),
            .sse(Self.logprobsStream),
        ]
        try await withUpstreamWorker(replies) { worker, mock in
            let result = try await runPython(script("sdk_fidelity.py"), [worker.client.socketPath])
            #expect(result.status == 0, "sdk_fidelity.py exited \(result.status): \(result.stderr)")
            let lines = result.stdout.split(separator: "\n").compactMap { try? jsonObject(String($0)) }
            for line in lines where line["scenario"] != nil {
                #expect(line["ok"] as? Bool == true, "\(line["scenario"] ?? ""): \(line["error"] ?? "")")
            }
            #expect(lines.first { $0["failed"] != nil }?["failed"] as? [String] == [], "\(result.stdout)")

            let sent = mock.requests
            try #require(sent.count == 7, "the mock saw \(sent.count) requests")
            #expect(try sent[0].json["thinking"] == ["type": "enabled", "budget_tokens": 1024])
            #expect(sent[0].header("anthropic-version") != nil && sent[0].header("x-api-key") == "sk-test")
            // The multi-turn request carries the thinking block back, signature intact.
            let replayed = try #require(try sent[3].json["messages"]?.arrayValue?[1]["content"]?.arrayValue?.first)
            let thinking: JSONValue = ["type": "thinking", "thinking": .string(ClaudeWire.thinking), "signature": .string(ClaudeWire.signature)]
            #expect(JSONWriter.serialize(replayed, style: .canonical) == JSONWriter.serialize(thinking, style: .canonical))
            #expect(try sent[3].json["messages"]?.arrayValue?[2]["content"]?.arrayValue?.first?["is_error"] == false)
            #expect(try sent[4].json["system"]?.arrayValue?.first?["cache_control"] == ["type": "ephemeral"])
            #expect(sent[5].uri == "/v1/messages/count_tokens")
            let logprobs = try sent[6].json
            #expect(logprobs["logprobs"] == true && logprobs["top_logprobs"] == 2)
        }
    }
}

/// The Python with the test tools: `scripts/test` puts `.build-python/bin` first on PATH.
/// The child runs on a dispatch thread, so the worker under test keeps the concurrency pool.
func runPython(_ script: String, _ arguments: [String]) async throws -> (status: Int32, stdout: String, stderr: String) {
    let python = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":")
        .map { "\($0)/python3" }.first { FileManager.default.isExecutableFile(atPath: $0) } ?? "/usr/bin/python3"
    return try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: python)
            process.arguments = [script] + arguments
            let out = Pipe()
            let err = Pipe()
            process.standardOutput = out
            process.standardError = err
            do { try process.run() } catch { return continuation.resume(throwing: error) }
            // Drain stderr on its own thread so a chatty child never blocks on a full pipe.
            let group = DispatchGroup()
            nonisolated(unsafe) var errData = Data()
            DispatchQueue.global().async(group: group) { errData = err.fileHandleForReading.readDataToEndOfFile() }
            let outData = out.fileHandleForReading.readDataToEndOfFile()
            group.wait()
            process.waitUntilExit()
            continuation.resume(returning: (
                process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self)))
        }
    }
}

/// A script under Tests/WorkerKitTests/Clients.
func script(_ name: String) -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Clients").appendingPathComponent(name).path
}
