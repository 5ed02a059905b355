import Foundation
import Synchronization
import Testing

/// The built executables sit next to the test bundle (one `swift build`, one directory).
func executable(_ name: String) -> URL {
    URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(name)
}

struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A real dev appliance, started as a user starts it (`supervisor --dev`), on an OS-chosen
/// loopback port and in a private runtime directory, stopped with SIGTERM at the end.
///
/// ```swift
/// try await ApplianceHarness.run(workers: 2) { appliance in
///     let result = try appliance.curl(["/v1/models"])
/// }
/// ```
final class ApplianceHarness: Sendable {
    let runtimeDirectory: String
    /// `https://127.0.0.1:PORT`.
    let url: String
    let certificatePath: String
    let devRootPath: String
    private let process: Process
    private let collector: LineCollector
    /// Set by `terminate()`: the test stops the supervisor itself and checks how it exited.
    private let terminatedByTest = Mutex(false)

    /// Everything the supervisor and its children printed so far (tagged lines).
    var output: [String] { collector.lines }

    var controlSocket: String { runtimeDirectory + "/supervisor.ctl" }

    private init(runtimeDirectory: String, process: Process, collector: LineCollector, url: String) {
        self.runtimeDirectory = runtimeDirectory
        self.process = process
        self.collector = collector
        self.url = url
        certificatePath = runtimeDirectory + "/tls-cert.pem"
        devRootPath = runtimeDirectory + "/dev-root.pem"
    }

    /// Starts the appliance, runs `body`, and always stops it (SIGTERM, then waits); the test
    /// fails if the supervisor does not exit 0 within 30 s.
    static func run<T>(
        workers: Int = 2,
        workerArguments: [String] = [],
        extraArguments: [String] = [],
        environment: [String: String] = [:],
        _ body: (ApplianceHarness) async throws -> T
    ) async throws -> T {
        var template = Array("/tmp/appl-XXXXXX".utf8CString)
        guard let created = mkdtemp(&template) else { throw HarnessError("mkdtemp failed") }
        let directory = String(cString: created)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let harness = try await start(
            directory: directory, workers: workers, workerArguments: workerArguments,
            extraArguments: extraArguments, environment: environment
        )
        do {
            let result = try await body(harness)
            try await harness.stop()
            return result
        } catch {
            try? await harness.stop()
            throw error
        }
    }

    private static func start(
        directory: String, workers: Int, workerArguments: [String], extraArguments: [String], environment: [String: String]
    ) async throws -> ApplianceHarness {
        let process = Process()
        process.executableURL = executable("supervisor")
        process.arguments = ["--dev", "--port", "0", "--workers", String(workers), "--runtime-dir", directory]
            + workerArguments.map { "--worker-arg=\($0)" } + extraArguments
        var env = ProcessInfo.processInfo.environment
        // The pointer file `supervisor ctl` reads goes into this test's own directory.
        env["XDG_RUNTIME_DIR"] = directory
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        let collector = LineCollector(reading: pipe)
        try process.run()

        let deadline = ContinuousClock.now + .seconds(90)
        while ContinuousClock.now < deadline {
            if let line = collector.lines.first(where: { $0.hasPrefix("  URL:") }) {
                let url = line.split(separator: " ", omittingEmptySubsequences: true).last.map(String.init) ?? ""
                return ApplianceHarness(runtimeDirectory: directory, process: process, collector: collector, url: url)
            }
            guard process.isRunning else {
                throw HarnessError("supervisor exited (\(process.terminationStatus)) before ready:\n\(collector.lines.joined(separator: "\n"))")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        process.terminate()
        throw HarnessError("supervisor not ready after 90 s:\n\(collector.lines.joined(separator: "\n"))")
    }

    /// SIGTERM and wait; throws if the supervisor had already exited, or does not stop with
    /// status 0 within 30 s.
    func stop() async throws {
        if terminatedByTest.withLock({ $0 }) { return }
        guard process.isRunning else {
            // Gone before the test ended: a crash or a fatal stop the test did not ask for.
            throw HarnessError("supervisor had already exited (\(process.terminationStatus)):\n\(output.suffix(30).joined(separator: "\n"))")
        }
        process.terminate()
        let deadline = ContinuousClock.now + .seconds(30)
        while process.isRunning, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            throw HarnessError("supervisor did not stop within 30 s of SIGTERM")
        }
        guard process.terminationStatus == 0 else {
            throw HarnessError("supervisor exited with \(process.terminationStatus) after SIGTERM")
        }
    }

    /// SIGTERM, for a test of the graceful stop itself; `waitForExit` then gives the status.
    func terminate() {
        terminatedByTest.withLock { $0 = true }
        process.terminate()
    }

    /// The supervisor's exit status; throws (after SIGKILL) if it still runs after `limit`.
    func waitForExit(limit: Duration) async throws -> Int32 {
        let deadline = ContinuousClock.now + limit
        while process.isRunning {
            guard ContinuousClock.now < deadline else {
                kill(process.processIdentifier, SIGKILL)
                throw HarnessError("supervisor still running \(limit) after SIGTERM")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        return process.terminationStatus
    }

    /// `supervisor ctl COMMAND…` as an operator runs it (finding the appliance via the pointer file).
    func ctl(_ command: String...) throws -> CommandResult {
        try runProgram(executable("supervisor"), ["ctl"] + command, environment: ["XDG_RUNTIME_DIR": runtimeDirectory])
    }

    /// `curl` against the appliance, trusting exactly its generated certificate.
    func curl(_ path: String, body: String? = nil, extra: [String] = []) throws -> CommandResult {
        var arguments = ["-sS", "--max-time", "60", "--cacert", certificatePath, url + path]
        if let body { arguments += ["-H", "Content-Type: application/json", "--data-binary", body] }
        return try runProgram(URL(fileURLWithPath: "/usr/bin/curl"), arguments + extra)
    }
}

/// A child process's output (stdout and stderr on one pipe), split into lines as they arrive.
final class LineCollector: Sendable {
    private let collected = Mutex<[String]>([])
    private let partial = Mutex<[UInt8]>([])

    var lines: [String] { collected.withLock { $0 } }

    init(reading pipe: Pipe) {
        pipe.fileHandleForReading.readabilityHandler = { [self] handle in
            let data = handle.availableData
            if data.isEmpty { handle.readabilityHandler = nil }
            append(data)
        }
    }

    private func append(_ data: Data) {
        let complete: [String] = partial.withLock { buffer in
            buffer.append(contentsOf: data)
            var found: [String] = []
            while let newline = buffer.firstIndex(of: 0x0A) {
                found.append(String(decoding: buffer[..<newline], as: UTF8.self))
                buffer.removeSubrange(...newline)
            }
            return found
        }
        if !complete.isEmpty { collected.withLock { $0.append(contentsOf: complete) } }
    }
}

struct CommandResult: Sendable {
    let status: Int32
    let stdout: String
    let stderr: String
}

/// Runs a program to completion with no stdin.
func run(_ program: URL, _ arguments: [String], environment: [String: String] = [:]) throws -> CommandResult {
    try runProgram(program, arguments, environment: environment)
}

/// `run` under a name `ApplianceHarness`'s own static `run` does not shadow.
func runProgram(_ program: URL, _ arguments: [String], environment: [String: String] = [:]) throws -> CommandResult {
    let process = Process()
    process.executableURL = program
    process.arguments = arguments
    var env = ProcessInfo.processInfo.environment
    for (key, value) in environment { env[key] = value }
    process.environment = env
    let output = Pipe(), errors = Pipe()
    process.standardInput = FileHandle.nullDevice
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    // Read stderr concurrently so a chatty program cannot fill one pipe and block.
    let stderrData = Mutex(Data())
    let group = DispatchGroup()
    group.enter()
    DispatchQueue.global().async {
        let data = errors.fileHandleForReading.readDataToEndOfFile()
        stderrData.withLock { $0 = data }
        group.leave()
    }
    let out = output.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    process.waitUntilExit()
    return CommandResult(
        status: process.terminationStatus,
        stdout: String(decoding: out, as: UTF8.self),
        stderr: String(decoding: stderrData.withLock { $0 }, as: UTF8.self)
    )
}

/// The Python with the test tools (scripts/test puts `.build-python/bin` first on PATH).
func python() -> URL {
    for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
        let candidate = URL(fileURLWithPath: String(directory)).appendingPathComponent("python3")
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
    }
    return URL(fileURLWithPath: "/usr/bin/python3")
}

/// A script under Tests/ApplianceTests/Clients.
func clientScript(_ name: String) -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Clients").appendingPathComponent(name).path
}
