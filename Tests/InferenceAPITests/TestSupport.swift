import Foundation
import GatewayCore
import Testing

@testable import InferenceAPI

/// Shared helpers: parsing test JSON, a deterministic signature, SSE frame splitting.
enum Support {
    static func json(_ text: String) throws -> JSONValue { try JSONParser().parse(text) }

    static func object(_ bytes: [UInt8]) throws -> JSONValue { try JSONParser().parse(bytes) }

    /// A signature whose hashes are the real request and output hashes; the RSA bytes are a
    /// placeholder (rendering never looks inside them).
    static func signature(
        _ request: InferenceRequest, _ answer: CompletionAccumulator, timestamp: UInt64 = 1_747_000_000
    ) -> TEESignature {
        TEESignature(
            requestHash: request.canonical.hash, outputHash: answer.outputHash, timestamp: timestamp,
            signature: [UInt8](repeating: 0xA5, count: 256),
            teeID: TEEID(digest: Keccak256.hash(Array("test key".utf8))))
    }

    static func accumulate(_ events: [CompletionEvent]) -> CompletionAccumulator {
        var answer = CompletionAccumulator()
        events.forEach { answer.add($0) }
        return answer
    }

    struct Frame {
        var event: String?
        var data: String
    }

    /// Splits SSE bytes into frames; fails the test when a frame is not `event:`/`data:` lines
    /// terminated by a blank line.
    static func frames(_ bytes: [UInt8]) throws -> [Frame] {
        let text = String(decoding: bytes, as: UTF8.self)
        try #require(text.hasSuffix("\n\n"), "stream must end with a blank line")
        return try text.dropLast(2).components(separatedBy: "\n\n").map { block in
            var frame = Frame(event: nil, data: "")
            for line in block.split(separator: "\n", omittingEmptySubsequences: false) {
                if line.hasPrefix("event: ") {
                    frame.event = String(line.dropFirst(7))
                } else {
                    try #require(line.hasPrefix("data: "), "unexpected SSE line \(line)")
                    frame.data = String(line.dropFirst(6))
                }
            }
            return frame
        }
    }

    static func chatRequest(stream: Bool = false, includeUsage: Bool = false, model: String = "gpt-4.1") throws
        -> InferenceRequest
    {
        var body = #"{"model":"\#(model)","messages":[{"role":"user","content":"hi"}]"#
        if stream { body += #","stream":true"# }
        if includeUsage { body += #","stream_options":{"include_usage":true}"# }
        return try InferenceRequest(route: .chatCompletions, body: json(body + "}"))
    }

    static let toolEvents: [CompletionEvent] = [
        .toolCall(index: 0, id: "call_a", name: "get_weather", arguments: ""),
        .toolCall(index: 0, id: nil, name: nil, arguments: #"{"city":"#),
        .toolCall(index: 0, id: nil, name: nil, arguments: #""Paris"}"#),
        .toolCall(index: 1, id: "call_b", name: "get_time", arguments: #"{"tz":"CET"}"#),
        .finish(.toolCalls),
        .usage(TokenUsage(promptTokens: 30, completionTokens: 12)),
    ]

    static let textEvents: [CompletionEvent] = [
        .text("Hello"), .text(""), .text(" wörld 😊"),
        .usage(TokenUsage(promptTokens: 9, completionTokens: 3, cachedPromptTokens: 4)), .finish(.stop),
    ]
}

extension Support {
    /// `Tests/Vectors` of the package that contains this file (scratch or main).
    static var vectorsURL: URL {
        var directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while directory.path != "/",
            !FileManager.default.fileExists(atPath: directory.appendingPathComponent("Package.swift").path)
        {
            directory.deleteLastPathComponent()
        }
        return directory.appendingPathComponent("Tests/Vectors")
    }

    static func vectors(_ name: String) throws -> JSONValue {
        try JSONParser().parse(try Data(contentsOf: vectorsURL.appendingPathComponent(name)))
    }
}
