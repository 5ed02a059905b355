import ArgumentParser
import GatewayCore

import Foundation

struct HashCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hash",
        abstract: "Recompute tee_request_hash or tee_output_hash from stdin, exactly as the gateway does.",
        discussion: """
            Exit status: 0 on success, 2 when stdin is not valid JSON or not a request the gateway \
            would sign (the message names the offset or the field).
            """,
        subcommands: [Chat.self, Completions.self, Output.self]
    )

    struct RequestOptions: ParsableArguments {
        @Flag(help: "Print the canonical bytes that are hashed instead of the hash.")
        var canonical = false
    }

    struct Chat: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Hash a raw /v1/chat/completions request body read from stdin.")
        @OptionGroup var options: RequestOptions
        func run() throws { try hashRequest(kind: .chat, canonical: options.canonical) }
    }

    struct Completions: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Hash a raw /v1/completions request body read from stdin.")
        @OptionGroup var options: RequestOptions
        func run() throws { try hashRequest(kind: .completions, canonical: options.canonical) }
    }

    struct Output: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Hash an answer read from stdin: its exact UTF-8 bytes, or with --tool-calls a JSON array of tool calls.",
            discussion: "The text is hashed byte for byte, so use `printf '%s'`, not `echo`, which adds a newline."
        )
        @Flag(help: "stdin is the response's tool_calls array; hash json.dumps(tool_calls, sort_keys=True).")
        var toolCalls = false

        func run() throws {
            let input = readStandardInput()
            if toolCalls {
                print(OutputHash.toolCalls(try parseToolCalls(input)).hex)
            } else {
                guard let text = String(validating: input, as: UTF8.self) else { throw invalidInput("stdin is not valid UTF-8") }
                print(OutputHash.text(text).hex)
            }
        }

        func parseToolCalls(_ input: [UInt8]) throws -> [ToolCall] {
            let value: JSONValue
            do { value = try JSONParser().parse(input) } catch { throw invalidInput(error.description) }
            guard let list = value.arrayValue else { throw invalidInput("tool calls must be a JSON array, not \(value.typeName)") }
            return try list.enumerated().map { i, call in
                guard let id = call["id"]?.stringValue, let name = call["function"]?["name"]?.stringValue,
                    let arguments = call["function"]?["arguments"]?.stringValue
                else { throw invalidInput("tool call \(i) needs string id, function.name and function.arguments") }
                return ToolCall(id: id, name: name, arguments: arguments)
            }
        }
    }
}

private func hashRequest(kind: RequestKind, canonical: Bool) throws {
    let body: JSONValue
    do { body = try JSONParser().parse(readStandardInput()) } catch { throw invalidInput(error.description) }
    let request: CanonicalRequest
    do { request = try CanonicalRequest(kind: kind, body: body) } catch { throw invalidInput("invalid request: \(error)") }
    print(canonical ? String(decoding: request.bytes, as: UTF8.self) : request.hash.hex)
}

/// The raw bytes: `readLine` would silently repair invalid UTF-8, which must be reported instead.
private func readStandardInput() -> [UInt8] {
    Array(FileHandle.standardInput.readDataToEndOfFile())
}

/// Bad input is the caller's mistake, not a crash: message on stderr, exit status 2.
func invalidInput(_ message: String) -> Error {
    try? FileHandle.standardError.write(contentsOf: Data("gatewayctl: \(message)\n".utf8))
    return ExitCode(2)
}
