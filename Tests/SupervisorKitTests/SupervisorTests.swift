import EnclaveIPC
import Foundation
import Testing

@testable import SupervisorKit

@Suite("supervisor with fake children", .serialized)
struct SupervisorTests {
    @Test func startsInDependencyOrderAndStopsInReverse() async throws {
        let outcome = try await SupervisorHarness.run(workers: 2) { harness, ready in
            let ready = try #require(ready)
            #expect(ready.listen.description == "tcp://127.0.0.1:18443", "the bound endpoint comes from tls-front's status")
            #expect(ready.certificateSHA256 == String(repeating: "ab", count: 32))
            #expect(FileManager.default.fileExists(atPath: ready.certificatePath))
            let order = ["start key-service", "start tls-front", "start worker-1", "tls-front workers"].map { harness.index(of: $0) }
            #expect(order.allSatisfy { $0 != nil }, "\(harness.events)")
            #expect(order.compactMap { $0 } == order.compactMap { $0 }.sorted(), "\(harness.events)")
            let workersCommand = try #require(harness.events.first { $0.hasPrefix("tls-front workers") })
            #expect(workersCommand.contains("worker-1.sock") && workersCommand.contains("worker-2.sock"))
            #expect(harness.events.contains {
                $0.hasPrefix("start key-service --listen unix://") && $0.contains(" --dev --dev-root-out \(harness.directory)/run/dev-root.pem")
            })
            #expect(ready.banner().contains("gatewayctl attest --url https://127.0.0.1:18443 --dev-root \(harness.directory)/run/dev-root.pem"))
            #expect(ready.banner().contains("curl --cacert \(ready.certificatePath) https://127.0.0.1:18443/v1/chat/completions"))
            #expect(ready.banner().contains(#""model":"local""#))
        }
        #expect(outcome == nil)
    }

    @Test func gracefulStopOrderIsTLSFrontWorkersKeyService() async throws {
        var stopped: [String] = []
        let outcome = try await SupervisorHarness.run(workers: 2) { harness, _ in
            harness.supervisor.shutdown()
            try await eventually("all stopped") { harness.events.filter { $0.hasPrefix("stop ") }.count == 4 }
            stopped = harness.events.filter { $0.hasPrefix("stop ") }
        }
        #expect(outcome == nil)
        #expect(stopped.first == "stop tls-front")
        #expect(stopped.last == "stop key-service")
        #expect(Set(stopped.dropFirst().dropLast()) == ["stop worker-1", "stop worker-2"])
    }

    @Test func forwardsChildOutputWithATag() async throws {
        try await SupervisorHarness.run(workers: 1) { harness, _ in
            try await eventually("tagged lines") {
                harness.lines.contains { $0.hasPrefix("[worker-1] fake worker-1 up") }
                    && harness.lines.contains { $0 == "[key-service] fake key-service diagnostics on stderr" }
            }
        }
    }

    @Test func restartsACrashedWorkerWithBackoff() async throws {
        try await SupervisorHarness.run(workers: 1) { harness, _ in
            let first = try #require(await harness.supervisor.pid(of: "worker-1"))
            kill(first, SIGKILL)
            try await eventually("worker-1 restarted") {
                if let pid = await harness.supervisor.pid(of: "worker-1"), pid != first { return true }
                return false
            }
            try await eventually("restart counted") { await harness.supervisor.status().contains("worker-1 pid=") }
            let status = await harness.supervisor.status()
            #expect(status.contains("restarts=1"), "\(status)")
            #expect(harness.lines.contains("[supervisor] worker-1 killed by signal 9"))
            #expect(harness.lines.contains("[supervisor] restarting worker-1 in 0.05 seconds (attempt 1)"))
        }
    }

    @Test func backoffDoublesUpToTheMaximum() async throws {
        let supervisor = Supervisor(
            configuration: SupervisorConfiguration(
                programs: .init(directory: "/nonexistent"), runtimeDirectory: "/tmp/x",
                listen: try Endpoint.tcp(host: "127.0.0.1", port: 0),
                minimumRestartDelay: .milliseconds(100), maximumRestartDelay: .seconds(1)
            ),
            output: { _ in }
        )
        let delays = await (1...6).asyncMap { await supervisor.restartDelay(afterFailures: $0) }
        #expect(delays == [.milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800), .seconds(1), .seconds(1)])
    }

    @Test func keyServiceDeathStopsTheApplianceWithAReason() async throws {
        let outcome = try await SupervisorHarness.run(workers: 1) { harness, _ in
            let keyService = try #require(await harness.supervisor.pid(of: "key-service"))
            kill(keyService, SIGKILL)
            try await eventually("appliance stopped") { harness.lines.contains("[supervisor] stopped") }
            #expect(harness.events.contains("stop tls-front"))
            #expect(harness.events.contains("stop worker-1"))
        }
        let error = try #require(outcome)
        #expect("\(error)".contains("key-service killed by signal 9"))
        #expect("\(error)".contains("--restart-key-service"))
    }

    @Test func keyServiceIsRestartedWhenConfigured() async throws {
        let outcome = try await SupervisorHarness.run(workers: 1, configure: { $0.restartKeyService = true }) { harness, _ in
            let first = try #require(await harness.supervisor.pid(of: "key-service"))
            kill(first, SIGKILL)
            try await eventually("key-service restarted") {
                if let pid = await harness.supervisor.pid(of: "key-service"), pid != first { return true }
                return false
            }
        }
        #expect(outcome == nil)
    }

    @Test func controlSocketCommands() async throws {
        try await SupervisorHarness.run(workers: 2) { harness, _ in
            let status = try await harness.control("status")
            #expect(status.contains("appliance running (dev)"))
            #expect(status.contains("key-service pid="))
            #expect(status.contains("worker-2 pid=") && status.contains("routed"))

            #expect(try await harness.control("scale 3") == "workers: worker-1,worker-2,worker-3")
            #expect(harness.events.last { $0.hasPrefix("tls-front workers") }?.contains("worker-3.sock") == true)
            #expect(try await harness.control("scale 1") == "workers: worker-1")
            try await eventually("scaled-down workers stopped") {
                harness.events.contains("stop worker-2") && harness.events.contains("stop worker-3")
            }

            #expect(try await harness.control("restart worker-1") == "replaced worker-1 with worker-4")
            await #expect(throws: SupervisorError.self) { try await harness.control("restart key-service") }
            await #expect(throws: SupervisorError.self) { try await harness.control("restart nobody") }
            await #expect(throws: SupervisorError.self) { try await harness.control("scale 0") }
            await #expect(throws: SupervisorError.self) { try await harness.control("frobnicate") }
            let keyServicePID = await harness.supervisor.pid(of: "key-service")
            #expect(try await harness.control("restart tls-front") == "restarted tls-front")
            #expect(await harness.supervisor.pid(of: "key-service") == keyServicePID)
        }
    }

    @Test func rotationSwitchesTLSFrontBeforeStoppingOldWorkers() async throws {
        try await SupervisorHarness.run(workers: 2) { harness, _ in
            let keyServicePID = await harness.supervisor.pid(of: "key-service")
            let reply = try await harness.control("rotate-workers")
            #expect(reply == "rotated worker-1,worker-2 -> worker-3,worker-4")
            #expect(await harness.supervisor.workers == ["worker-3", "worker-4"])
            let events = harness.events
            let switched = try #require(events.lastIndex { $0.hasPrefix("tls-front workers") && $0.contains("worker-3.sock") })
            #expect(!events[switched].contains("worker-1.sock"))
            let started = try #require(events.firstIndex { $0.hasPrefix("start worker-4") })
            let stopped = try #require(events.firstIndex { $0 == "stop worker-1" })
            #expect(started < switched && switched < stopped, "\(events)")
            #expect(await harness.supervisor.pid(of: "key-service") == keyServicePID)
        }
    }

    @Test func drainTakesWorkersOutOfRotation() async throws {
        try await SupervisorHarness.run(workers: 1) { (harness, _) async throws in
            #expect(try await harness.control("drain").hasPrefix("drained"))
            #expect(harness.events.last { $0.hasPrefix("tls-front workers") } == "tls-front workers")
            #expect(try await harness.control("scale 1") == "workers: worker-2")
        }
    }

    @Test func shutdownCommandStopsTheAppliance() async throws {
        let outcome = try await SupervisorHarness.run(workers: 1) { harness, _ in
            #expect(try await harness.control("shutdown") == "shutting down")
            try await eventually("stopped") { harness.lines.contains("[supervisor] stopped") }
        }
        #expect(outcome == nil)
    }

    @Test func aChildThatNeverBecomesReadyFailsStartUp() async throws {
        let outcome = try await SupervisorHarness.run(
            workers: 1, environment: ["FAKE_NEVER_READY": "worker"],
            configure: { $0.readinessTimeout = .seconds(2) }, expectReady: false
        ) { _, ready in
            #expect(ready == nil)
        }
        let error = try #require(outcome)
        #expect("\(error)".contains("worker-1 did not become ready within 2.0 seconds"))
    }

    @Test func missingProgramsAreNamed() async throws {
        let supervisor = Supervisor(
            configuration: SupervisorConfiguration(
                programs: .init(directory: "/nonexistent"), runtimeDirectory: "/tmp/x",
                listen: try Endpoint.tcp(host: "127.0.0.1", port: 0)
            ),
            output: { _ in }
        )
        await #expect(throws: SupervisorError.missingExecutable(name: "key-service", path: "/nonexistent/key-service")) {
            try await supervisor.run()
        }
    }
}

@Suite("line forwarding")
struct LineForwarderTests {
    @Test func splitsTagsAndBoundsLines() {
        let lines = Locked<[String]>([])
        let forwarder = LineForwarder(tag: "worker-2", output: { line in lines.withLock { $0.append(line) } })
        forwarder.append(Data("first\nsec".utf8))
        forwarder.append(Data("ond\n".utf8))
        forwarder.append(Data(repeating: 0x61, count: LineForwarder.maximumLineBytes + 5))
        forwarder.finish()
        let seen = lines.withLock { $0 }
        #expect(seen.prefix(2) == ["[worker-2] first", "[worker-2] second"])
        #expect(seen.count == 4)
        #expect(seen[2] == "[worker-2] " + String(repeating: "a", count: LineForwarder.maximumLineBytes))
        #expect(seen[3] == "[worker-2] aaaaa")
    }
}

extension Sequence where Element: Sendable {
    func asyncMap<T>(_ transform: (Element) async -> T) async -> [T] {
        var results: [T] = []
        for element in self { results.append(await transform(element)) }
        return results
    }
}
