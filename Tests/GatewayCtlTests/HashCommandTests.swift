import Foundation
import Testing

/// Runs the built `gatewayctl` as a user would: stdin in, stdout/stderr and exit status out.
struct CommandResult {
    let status: Int32
    let stdout: String
    let stderr: String
}

func gatewayctl(_ arguments: [String], stdin: [UInt8]) throws -> CommandResult {
    let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("gatewayctl")
    let process = Process()
    process.executableURL = binary
    process.arguments = arguments
    let input = Pipe(), output = Pipe(), errors = Pipe()
    process.standardInput = input
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    input.fileHandleForWriting.write(Data(stdin))
    try input.fileHandleForWriting.close()
    let out = output.fileHandleForReading.readDataToEndOfFile()
    let err = errors.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return CommandResult(status: process.terminationStatus, stdout: String(decoding: out, as: UTF8.self), stderr: String(decoding: err, as: UTF8.self))
}

@Suite struct HashCommandTests {
    @Test func chatHashMatchesR1() throws {
        let result = try gatewayctl(["hash", "chat"], stdin: Array(#"{"model":"gpt-4.1","messages":[{"role":"user","content":"Hello!"}],"temperature":0.7}"#.utf8))
        #expect(result.status == 0)
        #expect(result.stdout == "83ad5ce3547012f9078b8d0f0a38d7590c15e437a9d91ed5e2e51c2684eb1ddf\n")
    }

    @Test func completionsCanonicalBytes() throws {
        let result = try gatewayctl(["hash", "completions", "--canonical"], stdin: Array(#"{"model":"gpt-4.1","prompt":"Say hi"}"#.utf8))
        #expect(result.stdout == #"{"max_tokens": 16, "model": "gpt-4.1", "prompt": "Say hi", "temperature": 1.0}"# + "\n")
    }

    @Test func outputHashIsOverExactBytes() throws {
        #expect(try gatewayctl(["hash", "output"], stdin: Array("Hello! How can I help?".utf8)).stdout.hasPrefix("428a9703a7a037178b5e07c6628540bfd0cd5092ee2a13022bf510c91fdd0546"))
        #expect(try gatewayctl(["hash", "output"], stdin: []).stdout.hasPrefix("c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"))
        let toolCalls = #"[{"id":"call_abc123","type":"function","function":{"name":"get_weather","arguments":"{\"location\": \"San Francisco\"}"}}]"#
        #expect(try gatewayctl(["hash", "output", "--tool-calls"], stdin: Array(toolCalls.utf8)).stdout.hasPrefix("e5ae3f01477b28e1fa07a7ad19713874468b5e89da5d0a3fa437a0e4baa29f54"))
    }

    @Test func invalidJSONExitsTwoWithOffset() throws {
        let result = try gatewayctl(["hash", "chat"], stdin: Array(#"{"model": "m", "messages": [}"#.utf8))
        #expect(result.status == 2)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr == "gatewayctl: invalid JSON at line 1, column 29 (byte 28): unexpected '}', expected a JSON value\n")
    }

    @Test func invalidRequestsAndBytesExitTwo() throws {
        let badRole = try gatewayctl(["hash", "chat"], stdin: Array(#"{"model":"m","messages":[{"role":"bot","content":"x"}]}"#.utf8))
        #expect(badRole.status == 2)
        #expect(badRole.stderr.contains("'bot' is not a valid role"))
        let badUTF8 = try gatewayctl(["hash", "output"], stdin: [0x48, 0xFF])
        #expect(badUTF8.status == 2 && badUTF8.stderr.contains("not valid UTF-8"))
        let badCalls = try gatewayctl(["hash", "output", "--tool-calls"], stdin: Array(#"[{"id":1}]"#.utf8))
        #expect(badCalls.status == 2 && badCalls.stderr.contains("tool call 0 needs"))
    }

    @Test func helpDescribesEveryExecutable() throws {
        for name in ["gatewayctl", "supervisor", "key-service", "tls-front", "inference-worker", "host-proxy", "confidential-proxy"] {
            let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(name)
            let process = Process()
            process.executableURL = binary
            process.arguments = ["--help"]
            let output = Pipe()
            process.standardOutput = output
            try process.run()
            let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(process.terminationStatus == 0, "\(name) --help")
            #expect(text.contains("USAGE: \(name)"), "\(name) --help printed: \(text)")
        }
    }
}
