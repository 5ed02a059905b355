import Foundation
import Testing

@testable import SupervisorKit
import EnclaveIPC

/// Runs a `Supervisor` whose children are `Children/fake_child.py` in three roles, each behind
/// a wrapper script in a private bin directory, and records their events in a file.
struct SupervisorHarness: Sendable {
    let supervisor: Supervisor
    let directory: String
    let eventsPath: String
    let output: Locked<[String]>

    var events: [String] {
        ((try? String(contentsOfFile: eventsPath, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    var lines: [String] { output.withLock { $0 } }

    func control(_ command: String) async throws -> String {
        try await SupervisorControlClient.send(command, to: supervisor.configuration.controlSocket, timeout: .seconds(30))
    }

    /// Index of the first event starting with `prefix`, for ordering checks.
    func index(of prefix: String) -> Int? { events.firstIndex { $0.hasPrefix(prefix) } }

    static func fakeChild() throws -> String {
        var directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: directory.appendingPathComponent("Package.swift").path) {
            let parent = directory.deletingLastPathComponent()
            guard parent.path != directory.path else { throw HarnessError("no Package.swift above \(#filePath)") }
            directory = parent
        }
        return directory.appendingPathComponent("Tests/SupervisorKitTests/Children/fake_child.py").path
    }

    struct HarnessError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    /// Starts the supervisor, waits for it to be ready, runs `body`, then shuts it down and
    /// returns what `run()` threw (nil for a clean stop).
    @discardableResult
    static func run(
        workers: Int = 2,
        environment: [String: String] = [:],
        configure: (inout SupervisorConfiguration) -> Void = { _ in },
        expectReady: Bool = true,
        _ body: (SupervisorHarness, ApplianceReady?) async throws -> Void
    ) async throws -> (any Error)? {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/env") else { throw HarnessError("/usr/bin/env is missing") }
        var template = Array("/tmp/sup-test-XXXXXX".utf8CString)
        let directory = String(cString: try #require(mkdtemp(&template)))
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // As root the fakes run under the role uids (`RoleUsers`): they must reach the wrappers
        // and the runtime directory below, and append to the shared events file.
        chmod(directory, 0o755)
        let bin = directory + "/bin"
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        let events = directory + "/events"
        FileManager.default.createFile(atPath: events, contents: nil, attributes: [.posixPermissions: 0o666])
        chmod(events, 0o666)
        let script = try fakeChild()
        var exports = "export FAKE_EVENTS='\(events)'\n"
        for (key, value) in environment { exports += "export \(key)='\(value)'\n" }
        for (file, role) in [("key-service", "key-service"), ("tls-front", "tls-front"), ("inference-worker", "worker")] {
            let wrapper = "#!/bin/sh\n\(exports)exec /usr/bin/env python3 '\(script)' \(role) \"$@\"\n"
            try wrapper.write(toFile: bin + "/" + file, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: bin + "/" + file)
        }
        var configuration = SupervisorConfiguration(
            programs: .init(directory: bin),
            runtimeDirectory: directory + "/run",
            listen: try Endpoint.tcp(host: "127.0.0.1", port: 0),
            workerCount: workers,
            dev: true,
            readinessTimeout: .seconds(20),
            stopGrace: .seconds(5),
            minimumRestartDelay: .milliseconds(50),
            maximumRestartDelay: .milliseconds(400)
        )
        configure(&configuration)
        let output = Locked<[String]>([])
        let supervisor = Supervisor(configuration: configuration, output: { line in output.withLock { $0.append(line) } })
        let harness = SupervisorHarness(supervisor: supervisor, directory: directory, eventsPath: events, output: output)
        let (readyStream, readyContinuation) = AsyncStream<ApplianceReady>.makeStream()
        return try await withThrowingTaskGroup(of: (any Error)?.self) { group in
            group.addTask {
                do {
                    try await supervisor.run { ready in readyContinuation.yield(ready) }
                    readyContinuation.finish()
                    return nil
                } catch {
                    readyContinuation.finish()
                    return error
                }
            }
            var iterator = readyStream.makeAsyncIterator()
            let ready = await iterator.next()
            if expectReady { #expect(ready != nil, "the appliance never became ready: \(harness.lines.suffix(20))") }
            try await body(harness, ready)
            supervisor.shutdown()
            let outcome = try await group.next() ?? nil
            return outcome
        }
    }
}

/// Polls `condition` every 20 ms for up to 15 s.
func eventually(_ what: String, _ condition: @Sendable () async -> Bool) async throws {
    let deadline = ContinuousClock.now + .seconds(15)
    while !(await condition()) {
        guard ContinuousClock.now < deadline else {
            Issue.record("not within 15 s: \(what)")
            return
        }
        try await Task.sleep(for: .milliseconds(20))
    }
}
