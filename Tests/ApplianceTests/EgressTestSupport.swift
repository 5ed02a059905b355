import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// A long-running helper process for a test (a mock upstream, the host's egress proxy): output
/// collected line by line, readiness taken from a line it prints, stopped with SIGTERM.
final class BackgroundProcess: Sendable {
    let name: String
    private let process: Process
    private let collector: LineCollector

    /// Everything it printed so far, stdout and stderr interleaved.
    var lines: [String] { collector.lines }

    init(_ name: String, _ program: URL, _ arguments: [String], environment: [String: String] = [:]) throws {
        self.name = name
        process = Process()
        process.executableURL = program
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        process.environment = env
        process.standardInput = FileHandle.nullDevice
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        collector = LineCollector(reading: pipe)
        try process.run()
    }

    /// Waits up to 30 s for a line `extract` accepts and returns what it extracted.
    func waitForLine<T>(_ what: String, _ extract: (String) -> T?) async throws -> T {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if let found = lines.lazy.compactMap(extract).first { return found }
            guard process.isRunning else {
                throw HarnessError(
                    "\(name) exited (\(process.terminationStatus)) before \(what):\n\(lines.joined(separator: "\n"))")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw HarnessError("\(name): no \(what) within 30 s:\n\(lines.joined(separator: "\n"))")
    }

    /// SIGTERM, then SIGKILL if it is still running after 10 s.
    func stop() async {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = ContinuousClock.now + .seconds(10)
        while process.isRunning, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(50)) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    /// Runs `body` with the process and always stops it afterwards.
    func whileRunning<T>(_ body: () async throws -> T) async throws -> T {
        do {
            let result = try await body()
            await stop()
            return result
        } catch {
            await stop()
            throw error
        }
    }
}

/// `mock_openai_tls.py`: an OpenAI-compatible upstream over HTTPS on 127.0.0.1 with a fresh
/// self-signed certificate, recording every request it receives.
struct MockOpenAIUpstream {
    let process: BackgroundProcess
    let port: Int
    let certificatePath: String
    let recordsPath: String

    /// The JSON object of each request the mock received, in order.
    var requests: [[String: Any]] {
        let text = (try? String(contentsOfFile: recordsPath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    static func start(in directory: String) async throws -> MockOpenAIUpstream {
        let certificate = directory + "/mock-upstream.pem"
        let records = directory + "/mock-upstream.jsonl"
        let process = try BackgroundProcess(
            "mock upstream", python(), [clientScript("mock_openai_tls.py"), certificate, records])
        do {
            let port = try await process.waitForLine("its port") { line in
                line.hasPrefix("PORT ") ? Int(line.dropFirst(5)) : nil
            }
            return MockOpenAIUpstream(process: process, port: port, certificatePath: certificate, recordsPath: records)
        } catch {
            await process.stop()
            throw error
        }
    }
}

/// `host-proxy egress` on loopback, as the EC2 host runs it, with metrics on another loopback
/// port; both ports chosen by the OS and read back from its ready line.
struct HostEgress {
    let process: BackgroundProcess
    /// `tcp://127.0.0.1:PORT`, what `supervisor --egress` takes.
    let endpoint: String
    let metricsURL: String

    static func start(allowlist: [String], in directory: String) async throws -> HostEgress {
        let path = directory + "/egress.allowlist"
        try (["# written by EgressTests"] + allowlist).joined(separator: "\n").appending("\n")
            .write(toFile: path, atomically: true, encoding: .utf8)
        let process = try BackgroundProcess(
            "host-proxy egress", executable("host-proxy"),
            [
                "egress", "--listen", "tcp://127.0.0.1:0", "--allowlist", path, "--allow-loopback",
                "--metrics", "tcp://127.0.0.1:0",
            ]
        )
        do {
            let (egress, metrics) = try await process.waitForLine("the ready line") { line -> (String, String)? in
                guard line.contains("host-proxy ready"), let egress = field("egress", in: line),
                    let metrics = field("metrics", in: line)
                else { return nil }
                return (egress, metrics)
            }
            let metricsURL = "http://" + metrics.dropFirst("tcp://".count) + "/metrics"
            return HostEgress(process: process, endpoint: egress, metricsURL: metricsURL)
        } catch {
            await process.stop()
            throw error
        }
    }

    /// The current value of one series, e.g. `host_proxy_refusals_total` with
    /// `["direction": "egress", "reason": "not_allowlisted"]`; nil when the series is absent.
    func metric(_ name: String, _ labels: [String: String]) throws -> Double? {
        let scrape = try runProgram(URL(fileURLWithPath: "/usr/bin/curl"), ["-sS", "--max-time", "10", metricsURL])
        guard scrape.status == 0 else { throw HarnessError("scraping \(metricsURL) failed: \(scrape.stderr)") }
        for line in scrape.stdout.split(separator: "\n") where line.hasPrefix(name + "{") {
            guard let close = line.firstIndex(of: "}") else { continue }
            let labelText = line[line.index(line.startIndex, offsetBy: name.count + 1)..<close]
            var found: [String: String] = [:]
            for pair in labelText.split(separator: ",") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                guard parts.count == 2 else { continue }
                found[String(parts[0])] = String(parts[1].trimmingCharacters(in: CharacterSet(charactersIn: "\"")))
            }
            if found == labels { return Double(line[line.index(after: close)...].trimmingCharacters(in: .whitespaces)) }
        }
        return nil
    }

    /// `key=value` from a swift-log line's metadata.
    private static func field(_ key: String, in line: String) -> String? {
        line.split(separator: " ").first { $0.hasPrefix(key + "=") }.map { String($0.dropFirst(key.count + 1)) }
    }
}

/// Small fixtures of the egress tests, namespaced so they cannot collide with other suites' helpers.
enum EgressFixtures {
    /// A TCP port on 127.0.0.1 that was free a moment ago (the OS picks it; the socket is closed
    /// before returning, so another process could take it in between; tests run serialized).
    static func freeLoopbackPort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw HarnessError("socket() failed: errno \(errno)") }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(descriptor, pointer, length) == 0 && getsockname(descriptor, pointer, &length) == 0
            }
        }
        guard bound else { throw HarnessError("bind/getsockname on 127.0.0.1 failed: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// A fresh directory under /tmp, removed by the caller. Mode 0755 (mkdtemp makes 0700): as
    /// root the appliance's roles run under their own uids and must read files the test puts
    /// here (a worker's `--upstream-ca-file`).
    static func temporaryDirectory(_ prefix: String) throws -> String {
        var template = Array("/tmp/\(prefix)-XXXXXX".utf8CString)
        guard let created = mkdtemp(&template) else { throw HarnessError("mkdtemp failed") }
        chmod(created, 0o755)
        return String(cString: created)
    }
}
