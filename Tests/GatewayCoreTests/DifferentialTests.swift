import Foundation
import Testing

@testable import GatewayCore

/// GatewayCore against Python itself: the generator parses each random raw body with
/// `json.loads`, projects it and hashes `json.dumps(..., sort_keys=True)`; we must agree on every
/// byte. A fresh seed each run widens coverage over time; failures print the seed and the case.
@Suite struct DifferentialTests {
    @Test func canonicalHashAgreesWithPython() throws {
        let seed = Int.random(in: 0..<1_000_000)
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("canonical-cases-\(seed)-\(getpid()).tsv")
        defer { try? FileManager.default.removeItem(at: output) }
        let script = repositoryRoot.appendingPathComponent("Tests/GatewayCoreTests/Differential/generate_cases.py")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path, "--count", "10000", "--completions", "1000", "--seed", String(seed), "--out", output.path]
        let stderr = Pipe()
        process.standardError = stderr
        try process.run()
        let diagnostics = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "the Python oracle failed: \(diagnostics)")

        var compared = 0
        var mismatches: [String] = []
        for line in try String(contentsOf: output, encoding: .utf8).split(separator: "\n") {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            try #require(fields.count == 4, "malformed oracle line: \(line.prefix(80))")
            let kind = try #require(RequestKind(rawValue: String(fields[0])))
            let raw = try Hex.decode(fields[1])
            let expected = try Hex.decode(fields[2])
            compared += 1
            do {
                let request = try CanonicalRequest(kind: kind, body: JSONParser().parse(raw))
                if request.bytes != expected || request.hash.hex != fields[3] {
                    mismatches.append("raw: \(String(decoding: raw, as: UTF8.self))\n python: \(String(decoding: expected, as: UTF8.self))\n swift:  \(String(decoding: request.bytes, as: UTF8.self))")
                }
            } catch {
                mismatches.append("raw: \(String(decoding: raw, as: UTF8.self))\n swift rejected it: \(error)")
            }
        }
        print("differential: compared \(compared) requests with Python (seed \(seed)), \(mismatches.count) mismatches")
        #expect(compared >= 11_000, "the oracle produced only \(compared) cases")
        #expect(mismatches.isEmpty, "seed \(seed): \(mismatches.count) of \(compared) differ; first: \(mismatches.prefix(3).joined(separator: "\n---\n"))")
    }
}
