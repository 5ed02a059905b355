import Foundation
import GatewayCore
import Testing

@testable import InferenceAPI

/// The official `openai` and `anthropic` Python SDKs must parse our bytes unchanged: every
/// renderer's output is written to files and fed to the real clients through an httpx
/// MockTransport (Oracle/sdk_check.py). No server, no network.
@Suite struct SDKCompatibilityTests {
    /// One rendered response and what the SDK must read out of it.
    struct Case {
        var file: String
        var route: String
        var stream: Bool
        var status = 200
        var includeUsage = false
        var bytes: [UInt8]
        var expect: JSONObject
    }

    static func render(_ request: InferenceRequest, _ events: [CompletionEvent], failWith error: APIError? = nil) throws
        -> [UInt8]
    {
        let id = ResponseID.make(for: request.route)
        guard request.stream else {
            let answer = Support.accumulate(events)
            return request.responseBody(
                answer, id: id, signature: Support.signature(request, answer, timestamp: 1_747_000_123))
        }
        var renderer = request.streamRenderer(id: id, created: 1_747_000_100)
        var bytes = [UInt8]()
        for event in events { bytes += try renderer.render(event) }
        if let error { return bytes + renderer.fail(error) }
        return bytes + renderer.finish(Support.signature(request, renderer.accumulator))
    }

    static func chat(
        _ file: String, stream: Bool, includeUsage: Bool = false, events: [CompletionEvent],
        failWith error: APIError? = nil
    ) throws -> Case {
        let request = try Support.chatRequest(stream: stream, includeUsage: includeUsage)
        let answer = Support.accumulate(events)
        var expect = JSONObject.with([
            "model": .string(request.model), "tee_request_hash": .string(request.canonical.hash.hex),
            "text": .string(answer.text),
            "tool_calls": .array(answer.toolCalls.map { [.string($0.id), .string($0.name), .string($0.arguments)] }),
            "finish_reason": .string(answer.resolvedFinishReason.rawValue),
            "prompt_tokens": .number(JSONNumber(answer.usage?.promptTokens ?? 0)),
            "completion_tokens": .number(JSONNumber(answer.usage?.completionTokens ?? 0)),
        ])
        if let error { expect["error"] = .string(error.message) }
        return Case(
            file: file, route: "chat", stream: stream, includeUsage: includeUsage,
            bytes: try render(request, events, failWith: error), expect: expect)
    }

    static func completions(_ file: String, stream: Bool, events: [CompletionEvent]) throws -> Case {
        let request = try InferenceRequest(
            route: .completions, body: try Support.json(#"{"model":"gpt-4.1","prompt":"hi","stream":\#(stream)}"#))
        let answer = Support.accumulate(events)
        let expect = JSONObject.with([
            "model": "gpt-4.1", "tee_request_hash": .string(request.canonical.hash.hex), "text": .string(answer.text),
            "finish_reason": .string(answer.resolvedFinishReason.rawValue),
            "prompt_tokens": .number(JSONNumber(answer.usage?.promptTokens ?? 0)),
        ])
        return Case(
            file: file, route: "completions", stream: stream, bytes: try render(request, events), expect: expect)
    }

    static func messages(_ file: String, stream: Bool, events: [CompletionEvent], failWith error: APIError? = nil)
        throws -> Case
    {
        let request = try InferenceRequest(
            route: .messages,
            body: try Support.json(
                #"{"model":"claude-x","max_tokens":64,"stream":\#(stream),"messages":[{"role":"user","content":"hi"}]}"#
            ))
        let answer = Support.accumulate(events)
        var expect = JSONObject.with([
            "model": "claude-x", "tee_request_hash": .string(request.canonical.hash.hex), "text": .string(answer.text),
            "tool_uses": .array(
                answer.toolCalls.map {
                    [.string($0.id), .string($0.name), AnthropicMessageResponse.toolInput($0.arguments)]
                }),
            "stop_reason": .string(answer.resolvedFinishReason.anthropicStopReason),
            "input_tokens": answer.anthropicUsage["input_tokens"] ?? 0,
            "output_tokens": answer.anthropicUsage["output_tokens"] ?? 0,
        ])
        if let error { expect["error"] = .string(error.message) }
        return Case(
            file: file, route: "messages", stream: stream, bytes: try render(request, events, failWith: error),
            expect: expect)
    }

    static func errorBody(_ file: String, route: String, error: APIError) -> Case {
        var expect = JSONObject.with([
            "model": "m", "error": .string(error.message), "status": .number(JSONNumber(error.status)),
        ])
        let dialect: APIDialect = route == "messages" ? .anthropic : .openAI
        if dialect == .openAI, let param = error.param { expect["param"] = .string(param) }
        return Case(
            file: file, route: route, stream: false, status: error.status, bytes: error.body(dialect), expect: expect)
    }

    @Test func officialSDKsAcceptEveryRendering() throws {
        let withText: [CompletionEvent] = [.text("Sure: ")] + Support.toolEvents
        let cases = [
            try Self.chat("chat.json", stream: false, events: Support.textEvents),
            try Self.chat("chat_tools.json", stream: false, events: Support.toolEvents),
            try Self.chat("chat_text_and_tools.json", stream: false, events: withText),
            try Self.chat("chat_stream.sse", stream: true, events: Support.textEvents),
            try Self.chat("chat_stream_usage.sse", stream: true, includeUsage: true, events: Support.textEvents),
            try Self.chat("chat_stream_tools.sse", stream: true, events: withText),
            try Self.chat(
                "chat_stream_length.sse", stream: true,
                events: [.text("cut"), .finish(.length), .usage(TokenUsage(promptTokens: 1, completionTokens: 1))]),
            try Self.chat(
                "chat_stream_error.sse", stream: true, events: [.text("partial")],
                failWith: .upstream("the provider dropped the stream")),
            try Self.completions("completion.json", stream: false, events: Support.textEvents),
            try Self.completions("completion_stream.sse", stream: true, events: Support.textEvents),
            try Self.messages("message.json", stream: false, events: Support.textEvents),
            try Self.messages("message_tools.json", stream: false, events: withText),
            try Self.messages("message_stream.sse", stream: true, events: Support.textEvents),
            try Self.messages("message_stream_tools.sse", stream: true, events: withText),
            try Self.messages(
                "message_stream_error.sse", stream: true, events: [.text("partial")],
                failWith: .upstream("the provider dropped the stream")),
            Self.errorBody(
                "error_400.json", route: "chat",
                error: .invalidRequest(InvalidRequest("Invalid 'temperature'", param: "temperature"))),
            Self.errorBody("error_404.json", route: "chat", error: .unknownModel("gpt-9", available: ["gpt-4.1"])),
            Self.errorBody(
                "error_400_anthropic.json", route: "messages",
                error: .invalidRequest(InvalidRequest("bad top_k", param: "top_k"))),
            Self.errorBody(
                "error_429_anthropic.json", route: "messages", error: .rateLimited("slow down", retryAfterSeconds: 3)),
        ]

        let (status, output) = try Self.runOracle(cases)
        #expect(
            status == 0,
            "the official SDKs rejected our bytes (needs python3 with openai and anthropic, Tests/requirements.txt):\n\(output)"
        )
        #expect(output.contains("\(cases.count)/\(cases.count) cases accepted"), "\(output)")
    }

    /// The oracle must be able to fail: a wrong expectation is reported, not waved through.
    @Test func oracleReportsAMismatch() throws {
        var wrong = try Self.messages("message_stream.sse", stream: true, events: Support.textEvents)
        wrong.expect["text"] = "something else"
        let (status, output) = try Self.runOracle([wrong])
        #expect(status == 1)
        #expect(output.contains("FAIL message_stream.sse: AssertionError: text"), "\(output)")
    }

    /// Writes the cases and their manifest to a fresh directory and runs the Python oracle on it.
    static func runOracle(_ cases: [Case]) throws -> (Int32, String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "inferenceapi-sdk-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var manifest = [JSONValue]()
        for item in cases {
            try Data(item.bytes).write(to: directory.appendingPathComponent(item.file))
            manifest.append([
                "file": .string(item.file), "route": .string(item.route), "stream": .bool(item.stream),
                "status": .number(JSONNumber(item.status)),
                "include_usage": .bool(item.includeUsage), "expect": .object(item.expect),
            ])
        }
        try Data(JSONWriter.serialize(.array(manifest), style: .compact)).write(
            to: directory.appendingPathComponent("cases.json"))
        return try runPython(arguments: [directory.path])
    }

    static func runPython(arguments: [String]) throws -> (Int32, String) {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "Oracle/sdk_check.py")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }
}
