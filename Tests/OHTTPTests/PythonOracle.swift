import Foundation
import GatewayCore

/// Runs Oracle/ohttp_oracle.py (pyhpke + cryptography) with one JSON request on stdin.
/// Missing python3 or modules make the calling test fail with the interpreter's message.
enum PythonOracle {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func run(_ command: String, _ input: [String: Any]) throws -> Reply {
        let script = try packageRoot().appendingPathComponent("Tests/OHTTPTests/Oracle/ohttp_oracle.py")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path, command]
        let stdin = Pipe()
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        do {
            try process.run()
        } catch {
            throw Failure(description: "cannot start python3 via /usr/bin/env: \(error)")
        }
        try stdin.fileHandleForWriting.write(contentsOf: JSONSerialization.data(withJSONObject: input))
        try stdin.fileHandleForWriting.close()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        let errors = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(
                description: "ohttp_oracle.py \(command) exited with \(process.terminationStatus); "
                    + "it needs python3 with pyhpke>=0.6 and cryptography>=47 (ML-KEM) from Tests/requirements.txt:\n\(errors)"
            )
        }
        guard let object = try JSONSerialization.jsonObject(with: output) as? [String: Any] else {
            throw Failure(description: "ohttp_oracle.py \(command) did not print a JSON object")
        }
        return Reply(command: command, object: object)
    }

    struct Reply {
        let command: String
        let object: [String: Any]

        func bytes(_ key: String) throws -> [UInt8] {
            guard let text = object[key] as? String else {
                throw Failure(description: "\(command): no string \"\(key)\"")
            }
            return try Hex.decode(text)
        }

        func byteArrays(_ key: String) throws -> [[UInt8]] {
            guard let texts = object[key] as? [String] else {
                throw Failure(description: "\(command): no list \"\(key)\"")
            }
            return try texts.map { try Hex.decode($0) }
        }

        func flag(_ key: String) throws -> Bool {
            guard let value = object[key] as? Bool else { throw Failure(description: "\(command): no bool \"\(key)\"") }
            return value
        }
    }
}
