import Foundation
import Testing

/// confidential-proxy as a user runs it (README "Use it from your machine"): a dev appliance, the
/// `host-proxy relay` as PROXY_URL (behind a wiretap that records the hop, and on request
/// tampers with it), and the proxy with `--compat both`, driven by the unchanged official
/// `openai` and `anthropic` SDKs. Then what must fail: tampered answers, a stale OHTTP key id, a
/// wrong PCR (each a 502 naming why), a wrong-length CLIENT_KEK; and the daemon lifecycle.
@Suite("confidential-proxy against a dev appliance", .serialized)
struct ConfidentialProxyTests {
    static let kek = Data(repeating: 0x5a, count: 32).base64EncodedString()
    static let prompts = ["Hello through the confidential proxy", "Stream this back through the proxy", "Hello Claude-shaped proxy"]

    @Test func sdksThroughRelayAndWhatMustFail() async throws {
        try await ApplianceHarness.run(workers: 1) { appliance in
            let scratch = try Scratch()
            let relay = try Background(executable("host-proxy"), [
                "relay", "--listen", "tcp://127.0.0.1:0", "--gateway", appliance.url, "--gateway-ca", appliance.certificatePath,
            ])
            defer { relay.stop() }
            let relayPort = try await relay.waitFor(#"listen=127\.0\.0\.1:(\d+)"#)
            let capture = scratch.path("capture.jsonl")
            let tap = try Background(python(), [
                clientScript("relay_tap.py"), scratch.path("tap.port"), "http://127.0.0.1:\(relayPort)/v1/ohttp", capture,
            ])
            defer { tap.stop() }
            let tapPort = try await waitForFile(scratch.path("tap.port"))

            let proxy = try Background(
                executable("confidential-proxy"), ["--compat", "both", "--dev-root", appliance.devRootPath, "--port", "0", "--log-level", "debug", "--shutdown-timeout", "2000"],
                environment: [
                    "ENCLAVE_URL": appliance.url, "PROXY_URL": "http://127.0.0.1:\(tapPort)", "CLIENT_KEK": Self.kek,
                    "XDG_DATA_HOME": scratch.path("data"),
                ])
            defer { proxy.stop() }
            let port = try await proxy.waitFor(#"url=http://127\.0\.0\.1:(\d+)"#)
            let base = "http://127.0.0.1:\(port)"

            // 1. The official SDKs, every scenario verified by the proxy.
            let sdk = try runProgram(python(), [clientScript("proxy_sdk_client.py"), base])
            #expect(sdk.status == 0, "proxy_sdk_client.py:\n\(sdk.stdout)\n\(sdk.stderr.suffix(3000))\nproxy log:\n\(proxy.output.suffix(30).joined(separator: "\n"))")
            for line in sdk.stdout.split(separator: "\n") where line.contains("\"ok\": false") { Issue.record("\(line)") }

            // 2. The relay hop carried ciphertext only: no prompt, no API key, OHTTP media types.
            let hop = try String(contentsOfFile: capture, encoding: .utf8).split(separator: "\n").compactMap {
                try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }
            #expect(hop.count >= 10, "only \(hop.count) requests crossed the relay hop")
            for exchange in hop {
                let headers = (exchange["request_headers"] as? [String: String] ?? [:]).map { "\($0.key): \($0.value)" }.joined(separator: "\n")
                let bytes = unhex(exchange["request_body"] as? String ?? "") + unhex(exchange["response_body"] as? String ?? "")
                for secret in Self.prompts + ["sk-test-not-a-real-key", "sk-ant-test", "You said"] {
                    #expect(bytes.firstRange(of: Array(secret.utf8)) == nil, "'\(secret)' crossed the relay hop in clear")
                    #expect(!headers.contains(secret))
                }
                #expect(headers.lowercased().contains("content-type: message/ohttp-req"), "\(headers)")
                #expect(!headers.lowercased().contains("authorization"), "\(headers)")
            }

            // 3. What must fail, each a 502 naming the reason, in the route's error shape.
            try setMode("tamper-response", capture)
            let tampered = try post(base + "/openai/v1/chat/completions", #"{"model":"local","messages":[{"role":"user","content":"hi"}]}"#)
            #expect(tampered.status == 502, "\(tampered)")
            #expect(tampered.openAIMessage?.contains("failed authentication") == true, "\(tampered.body)")
            let tamperedAnthropic = try post(
                base + "/anthropic/v1/messages", #"{"model":"local","max_tokens":50,"messages":[{"role":"user","content":"hi"}]}"#)
            #expect(tamperedAnthropic.status == 502)
            #expect(tamperedAnthropic.json?["type"] as? String == "error", "\(tamperedAnthropic.body)")
            let tamperedStream = try post(
                base + "/openai/v1/chat/completions", #"{"model":"local","stream":true,"messages":[{"role":"user","content":"tamper my stream please"}]}"#)
            #expect(!tamperedStream.body.contains("[DONE]"), "a tampered stream ended cleanly:\n\(tamperedStream.body)")
            #expect(tamperedStream.status == 502 || tamperedStream.body.contains("\"error\""), "\(tamperedStream)")

            try setMode("stale-key-id", capture)
            let stale = try post(base + "/openai/v1/chat/completions", #"{"model":"local","messages":[{"role":"user","content":"hi"}]}"#)
            #expect(stale.status == 502, "\(stale)")
            #expect(stale.openAIMessage?.contains("422") == true, "\(stale.body)")
            #expect(proxy.output.contains { $0.contains("re-attesting and retrying once") }, "no re-attestation after an unknown key id")
            try setMode("pass", capture)
            let recovered = try post(base + "/openai/v1/chat/completions", #"{"model":"local","messages":[{"role":"user","content":"hi"}]}"#)
            #expect(recovered.status == 200, "\(recovered)")

            // Over the limit: 413 in the route's shape.
            let big = #"{"model":"local","messages":[{"role":"user","content":""# + String(repeating: "x", count: 40_000) + #""}]}"#
            let limited = try Background.runOnce(
                executable("confidential-proxy"), ["--json-body-limit", "8kb"], base: base, appliance: appliance, scratch: scratch) { base in
                    try post(base + "/anthropic/v1/messages", big)
                }
            #expect(limited.status == 413, "\(limited)")
            #expect(limited.json?["type"] as? String == "error")

            // A wrong PCR: the proxy serves, but every request is refused naming the PCR.
            let wrongPCR = try Background.runOnce(
                executable("confidential-proxy"), ["--pcr0", String(repeating: "ab", count: 48)], base: base, appliance: appliance, scratch: scratch
            ) { base in try post(base + "/openai/v1/chat/completions", #"{"model":"local","messages":[{"role":"user","content":"hi"}]}"#) }
            #expect(wrongPCR.status == 502, "\(wrongPCR)")
            #expect(wrongPCR.openAIMessage?.contains("PCR0") == true, "\(wrongPCR.body)")

            // No dev root: the simulated NSM's chain is not trusted.
            let noRoot = try Background.runOnce(
                executable("confidential-proxy"), [], base: base, appliance: appliance, scratch: scratch, devRoot: false
            ) { base in try post(base + "/anthropic/v1/messages", #"{"model":"local","max_tokens":9,"messages":[{"role":"user","content":"hi"}]}"#) }
            #expect(noRoot.status == 502, "\(noRoot)")
            #expect((noRoot.json?["error"] as? [String: Any])?["message"] as? String ?? "" ~= "chain", "\(noRoot.body)")

            // A substituted signing key (a machine in the middle serving its own): refused, naming it.
            let mitm = try Background(python(), [
                clientScript("attest_mitm.py"), scratch.path("mitm.port"), appliance.url, appliance.certificatePath,
            ])
            defer { mitm.stop() }
            let mitmURL = "https://127.0.0.1:\(try await waitForFile(scratch.path("mitm.port")))"
            let substituted = try Background.runOnce(
                executable("confidential-proxy"), ["--enclave-url", mitmURL, "--proxy-url", mitmURL], base: base, appliance: appliance,
                scratch: scratch
            ) { base in try post(base + "/openai/v1/chat/completions", #"{"model":"local","messages":[{"role":"user","content":"hi"}]}"#) }
            #expect(substituted.status == 502, "\(substituted)")
            #expect(substituted.openAIMessage?.contains("signing key") == true, "\(substituted.body)")

            try daemonLifecycle(appliance, scratch: scratch)
            try runCommand(appliance, scratch: scratch)
        }
    }

    /// The relay alone, in front of a stand-in gateway that records what reaches it.
    @Test func relayForwardsOnlyOHTTPAndNoClientIdentity() async throws {
        let scratch = try Scratch()
        let log = scratch.path("echo.jsonl")
        let echo = try Background(python(), [clientScript("header_echo.py"), scratch.path("echo.port"), log])
        defer { echo.stop() }
        let echoPort = try await waitForFile(scratch.path("echo.port"))
        let relay = try Background(executable("host-proxy"), [
            "relay", "--listen", "tcp://127.0.0.1:0", "--gateway", "http://127.0.0.1:\(echoPort)", "--log-level", "trace",
        ])
        defer { relay.stop() }
        let url = "http://127.0.0.1:\(try await relay.waitFor(#"listen=127\.0\.0\.1:(\d+)"#))"
        let body = "sealed-bytes-SECRET-0123456789"
        let relayed = try curl([
            "-H", "Content-Type: message/ohttp-req", "-H", "X-Forwarded-For: 203.0.113.9", "-H", "Forwarded: for=203.0.113.9",
            "-H", "Authorization: Bearer sk-secret", "-H", "Cookie: id=42", "-H", "User-Agent: curl-identity",
            "--data-binary", body, url + "/v1/ohttp",
        ])
        #expect(relayed.status == 200 && relayed.body == String(body.reversed()), "\(relayed)")
        #expect(relayed.headers.lowercased().contains("content-type: message/ohttp-res"))
        let seen = try String(contentsOfFile: log, encoding: .utf8)
        let headers = try #require(try JSONSerialization.jsonObject(with: Data(seen.split(separator: "\n")[0].utf8)) as? [String: Any])["headers"] as? [String: String]
        #expect(headers?["content-type"] == "message/ohttp-req")
        for name in ["x-forwarded-for", "forwarded", "authorization", "cookie", "x-real-ip", "via"] {
            #expect(headers?[name] == nil, "the relay passed on \(name)")
        }
        #expect(!seen.contains("203.0.113.9") && !seen.contains("curl-identity") && !seen.contains("127.0.0.1\""))
        #expect(!relay.output.joined().contains("SECRET"), "the relay logged a body")

        let refusals: [([String], Int)] = [
            ([url + "/v1/ohttp"], 405),
            (["-H", "Content-Type: application/json", "--data-binary", "{}", url + "/v1/ohttp"], 415),
            (["-H", "Content-Type: message/ohttp-req", "--data-binary", "x", url + "/v1/chat/completions"], 404),
            (["-X", "PUT", "-H", "Content-Type: message/ohttp-req", "--data-binary", "x", url + "/v1/ohttp"], 405),
            (["-H", "Content-Type: message/ohttp-req", "--data-binary", "@" + (try scratch.file("big", bytes: 600 * 1024)), url + "/v1/ohttp"], 413),
        ]
        for (arguments, status) in refusals {
            let refused = try curl(arguments)
            #expect(refused.status == status, "\(arguments): \(refused)")
        }
        #expect(try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").count == 1, "a refused request reached the gateway")
    }

    private func daemonLifecycle(_ appliance: ApplianceHarness, scratch: Scratch) throws {
        let port = try freePort()
        let pidFile = scratch.path("daemon/proxy.pid")
        let environment = [
            "ENCLAVE_URL": appliance.url, "PROXY_URL": appliance.url, "CLIENT_KEK": Self.kek, "XDG_DATA_HOME": scratch.path("data"),
        ]
        let common = ["--pid-file", pidFile, "--port", String(port), "--dev-root", appliance.devRootPath]
        let proxy = executable("confidential-proxy")
        let started = try runProgram(proxy, ["start", "--log-file", scratch.path("daemon/proxy.log")] + common, environment: environment)
        #expect(started.status == 0, "\(started)")
        let pid = try #require(Int32((try? String(contentsOfFile: pidFile, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""))
        let duplicate = try runProgram(proxy, ["start"] + common, environment: environment)
        #expect(duplicate.status != 0 && duplicate.stderr.contains("already running (pid \(pid)"), "\(duplicate)")
        let status = try runProgram(proxy, ["status"] + common, environment: environment)
        #expect(status.status == 0, "\(status)")
        #expect(status.stdout.contains("pid \(pid)") && status.stdout.contains("tee_id: 0x") && status.stdout.contains("last verified: 20"), "\(status.stdout)")
        #expect(status.stdout.contains("(direct)"))
        let log = (try? String(contentsOfFile: scratch.path("daemon/proxy.log"), encoding: .utf8)) ?? ""
        #expect(log.contains("PROXY_URL equals ENCLAVE_URL"), "direct mode is announced at start:\n\(log)")
        let stopped = try runProgram(proxy, ["stop"] + common, environment: environment)
        #expect(stopped.status == 0 && stopped.stdout.contains("stopped (pid \(pid))"), "\(stopped)")
        #expect(!FileManager.default.fileExists(atPath: pidFile))
        #expect(try runProgram(proxy, ["status"] + common, environment: environment).status != 0)

        // A wrong-length CLIENT_KEK is refused at start, naming the variable, in both modes.
        var badKEK = environment
        badKEK["CLIENT_KEK"] = Data(repeating: 1, count: 16).base64EncodedString()
        for arguments in [common, ["start"] + common] {
            let refused = try runProgram(proxy, arguments, environment: badKEK)
            #expect(refused.status != 0 && refused.stderr.contains("CLIENT_KEK"), "\(arguments): \(refused)")
        }
        #expect(!FileManager.default.fileExists(atPath: pidFile))

        // --no-attest warns on every start.
        let devOnly = try runProgram(proxy, ["start", "--no-attest", "--pid-file", pidFile, "--port", String(port), "--log-file", scratch.path("daemon/dev.log")], environment: environment)
        #expect(devOnly.status == 0, "\(devOnly)")
        _ = try runProgram(proxy, ["stop", "--pid-file", pidFile], environment: environment)
        #expect(((try? String(contentsOfFile: scratch.path("daemon/dev.log"), encoding: .utf8)) ?? "").contains("--no-attest: attestation is NOT verified"))
    }

    private func runCommand(_ appliance: ApplianceHarness, scratch: Scratch) throws {
        let environment = [
            "ENCLAVE_URL": appliance.url, "PROXY_URL": appliance.url, "CLIENT_KEK": Self.kek, "XDG_DATA_HOME": scratch.path("data"),
        ]
        let proxy = executable("confidential-proxy")
        let listed = try runProgram(proxy, ["run", "--dev-root", appliance.devRootPath, "--", "env"], environment: environment)
        #expect(listed.status == 0, "\(listed)")
        #expect(listed.stdout.range(of: #"OPENAI_BASE_URL=http://127\.0\.0\.1:\d+/openai/v1"#, options: .regularExpression) != nil, "\(listed.stdout)")
        #expect(listed.stdout.range(of: #"ANTHROPIC_BASE_URL=http://127\.0\.0\.1:\d+/anthropic"#, options: .regularExpression) != nil)
        let failing = try runProgram(proxy, ["run", "--dev-root", appliance.devRootPath, "--", "sh", "-c", "exit 7"], environment: environment)
        #expect(failing.status == 7, "\(failing)")
        // The command really reaches a verifying proxy.
        let script = "import os,urllib.request;print(urllib.request.urlopen(os.environ['OPENAI_BASE_URL']+'/models').headers['x-confidential-proxy-verified'])"
        let reached = try runProgram(proxy, ["run", "--dev-root", appliance.devRootPath, "--", "python3", "-c", script], environment: environment)
        #expect(reached.status == 0 && reached.stdout.contains("unsigned-route"), "\(reached)")
    }
}

// MARK: - helpers

private func ~= (text: String, pattern: String) -> Bool { text.contains(pattern) }

struct HTTPResult: CustomStringConvertible {
    let status: Int
    let headers: String
    let body: String
    var json: [String: Any]? { try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any] }
    var openAIMessage: String? { (json?["error"] as? [String: Any])?["message"] as? String }
    var description: String { "HTTP \(status)\n\(body.prefix(2000))" }
}

func curl(_ arguments: [String]) throws -> HTTPResult {
    let marker = "\n__STATUS__"
    let result = try runProgram(URL(fileURLWithPath: "/usr/bin/curl"), ["-sS", "-D", "-", "--max-time", "120", "-w", marker + "%{http_code}"] + arguments)
    guard let range = result.stdout.range(of: marker, options: .backwards) else { return HTTPResult(status: 0, headers: "", body: result.stderr) }
    let status = Int(result.stdout[range.upperBound...]) ?? 0
    let text = String(result.stdout[..<range.lowerBound])
    // curl prints the head (possibly several, e.g. 100-continue) then the body.
    var head = "", body = text
    while let end = body.range(of: "\r\n\r\n"), body.hasPrefix("HTTP/") {
        head = String(body[..<end.lowerBound])
        body = String(body[end.upperBound...])
    }
    return HTTPResult(status: status, headers: head, body: body)
}

func post(_ url: String, _ json: String) throws -> HTTPResult {
    try curl(["-H", "Content-Type: application/json", "-H", "Authorization: Bearer sk-test", "--data-binary", json, url])
}

func setMode(_ mode: String, _ capture: String) throws {
    try mode.write(toFile: capture + ".mode", atomically: true, encoding: .utf8)
}

func unhex(_ text: String) -> [UInt8] {
    let digits = Array(text.utf8)
    return stride(from: 0, to: digits.count - 1, by: 2).compactMap { UInt8(String(decoding: digits[$0...$0 + 1], as: UTF8.self), radix: 16) }
}

func freePort() throws -> Int {
    let result = try runProgram(python(), ["-c", "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])"])
    guard let port = Int(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) else { throw HarnessError("no free port: \(result)") }
    return port
}

func waitForFile(_ path: String) async throws -> Int {
    for _ in 0..<600 {
        if let text = try? String(contentsOfFile: path, encoding: .utf8), let port = Int(text) { return port }
        try await Task.sleep(for: .milliseconds(50))
    }
    throw HarnessError("\(path) never appeared")
}

/// A temporary directory for one test.
final class Scratch: Sendable {
    let root: String
    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("cpx-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }
    func path(_ name: String) -> String { root + "/" + name }
    func file(_ name: String, bytes: Int) throws -> String {
        try Data(repeating: 0x41, count: bytes).write(to: URL(fileURLWithPath: path(name)))
        return path(name)
    }
}

/// A long-running child whose output (stdout and stderr) is collected line by line.
final class Background: Sendable {
    private let process: Process
    private let collector: LineCollector

    var output: [String] { collector.lines }

    init(_ program: URL, _ arguments: [String], environment: [String: String] = [:]) throws {
        process = Process()
        process.executableURL = program
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        collector = LineCollector(reading: pipe)
        try process.run()
    }

    /// The first capture group of `pattern` in the output, once it appears (60 s at most).
    func waitFor(_ pattern: String) async throws -> Int {
        let regex = try NSRegularExpression(pattern: pattern)
        for _ in 0..<1200 {
            for line in output {
                let range = NSRange(line.startIndex..., in: line)
                if let match = regex.firstMatch(in: line, range: range), let group = Range(match.range(at: 1), in: line), let value = Int(line[group]) {
                    return value
                }
            }
            guard process.isRunning else { throw HarnessError("exited (\(process.terminationStatus)):\n\(output.joined(separator: "\n"))") }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw HarnessError("no '\(pattern)' after 60 s:\n\(output.joined(separator: "\n"))")
    }

    /// SIGTERM, then SIGKILL after 3 s. A child spawned from a test thread can inherit a blocked
    /// SIGTERM (the Python helpers did, and ignored it), and waiting for it forever hung the suite.
    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        for _ in 0..<60 where process.isRunning { usleep(50_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// A second proxy (direct to the gateway) with extra arguments for one check, then stopped.
    static func runOnce(
        _ program: URL, _ arguments: [String], base: String, appliance: ApplianceHarness, scratch: Scratch, devRoot: Bool = true,
        _ body: (String) throws -> HTTPResult
    ) throws -> HTTPResult {
        let port = try freePort()
        let root = devRoot ? ["--dev-root", appliance.devRootPath] : []
        let proxy = try Background(
            program, ["--compat", "both", "--port", String(port), "--shutdown-timeout", "2000"] + root + arguments,
            environment: ["ENCLAVE_URL": appliance.url, "PROXY_URL": appliance.url, "CLIENT_KEK": ConfidentialProxyTests.kek, "XDG_DATA_HOME": scratch.path("data")])
        defer { proxy.stop() }
        let url = "http://127.0.0.1:\(port)"
        for _ in 0..<600 {
            if (try? curl([url + "/_proxy/status"]))?.status == 200 { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return try body(url)
    }
}
