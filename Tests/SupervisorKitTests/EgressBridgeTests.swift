import EnclaveIPC
import Foundation
import Testing

@testable import SupervisorKit

/// The supervisor's egress-bridge role with a stand-in for `host-proxy`: it records its start
/// and stop in the harness's event file and answers `GET /metrics` on the socket it is given,
/// which is all the supervisor relies on.
@Suite("supervisor egress bridge", .serialized)
struct EgressBridgeTests {
    /// The stand-in `host-proxy`, written next to the harness's other fakes.
    static let fakeHostProxy = #"""
        import os, signal, socket, sys, threading
        args = sys.argv[1:]
        def option(name):
            return args[args.index(name) + 1]
        events = os.environ["FAKE_EVENTS"]
        def record(line):
            with open(events, "a") as f:
                f.write(line + "\n")
        def on_term(signum, frame):
            record("stop egress-bridge")
            os._exit(0)
        signal.signal(signal.SIGTERM, on_term)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})  # see fake_child.py
        record("start egress-bridge " + " ".join(args))
        if os.environ.get("FAKE_NEVER_READY") == "egress-bridge":
            signal.pause()
        path = option("--metrics")[len("unix://"):]
        if os.path.exists(path):
            os.unlink(path)
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(path)
        server.listen(16)
        def answer(connection):
            with connection:
                request = b""
                while b"\r\n\r\n" not in request:
                    chunk = connection.recv(4096)
                    if not chunk:
                        return
                    request += chunk
                status = b"200 OK" if request.startswith(b"GET /metrics ") else b"404 Not Found"
                connection.sendall(b"HTTP/1.1 " + status + b"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        while True:
            connection, _ = server.accept()
            threading.Thread(target=answer, args=(connection,), daemon=True).start()
        """#

    /// Points the configuration at the stand-in (in the harness's directory, which `run` removes)
    /// and at the host's egress on vsock, as in the enclave.
    static func withBridge(environment: [String: String] = [:]) -> (inout SupervisorConfiguration) -> Void {
        { configuration in
            let directory = URL(fileURLWithPath: configuration.runtimeDirectory).deletingLastPathComponent().path
            let script = directory + "/fake_host_proxy.py"
            let wrapper = directory + "/bin/host-proxy"
            var exports = "export FAKE_EVENTS='\(directory)/events'\n"
            for (key, value) in environment { exports += "export \(key)='\(value)'\n" }
            try? fakeHostProxy.write(toFile: script, atomically: true, encoding: .utf8)
            try? "#!/bin/sh\n\(exports)exec /usr/bin/env python3 '\(script)' \"$@\"\n"
                .write(toFile: wrapper, atomically: true, encoding: .utf8)
            try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: wrapper)
            configuration.egressBridge = .init(upstream: .vsock(cid: 3, port: 8001))
        }
    }

    @Test func startsTheBridgeBeforeTheWorkersAndPointsEveryWorkerAtIt() async throws {
        let outcome = try await SupervisorHarness.run(workers: 2, configure: Self.withBridge()) { harness, ready in
            #expect(ready != nil)
            let order = ["start key-service", "start egress-bridge", "start tls-front", "start worker-1"].map {
                harness.index(of: $0)
            }
            #expect(order.allSatisfy { $0 != nil }, "\(harness.events)")
            #expect(order.compactMap { $0 } == order.compactMap { $0 }.sorted(), "\(harness.events)")
            let metrics = await harness.supervisor.configuration.egressBridgeMetricsSocket
            #expect(
                harness.events.contains(
                    "start egress-bridge bridge --listen tcp://127.0.0.1:3128 --upstream vsock://3:8001 --metrics unix://\(metrics)"
                ),
                "\(harness.events)"
            )
            let workers = harness.events.filter { $0.hasPrefix("start worker-") }
            #expect(workers.count == 2)
            #expect(workers.allSatisfy { $0.contains(" --egress-proxy 127.0.0.1:3128") }, "\(workers)")
            #expect(await harness.supervisor.status().contains("egress-bridge pid="))
        }
        #expect(outcome == nil)
    }

    @Test func stopsTheBridgeAfterTheWorkersAndBeforeKeyService() async throws {
        var stopped: [String] = []
        let outcome = try await SupervisorHarness.run(workers: 1, configure: Self.withBridge()) { harness, _ in
            harness.supervisor.shutdown()
            try await eventually("all stopped") { harness.events.filter { $0.hasPrefix("stop ") }.count == 4 }
            stopped = harness.events.filter { $0.hasPrefix("stop ") }
        }
        #expect(outcome == nil)
        #expect(stopped == ["stop tls-front", "stop worker-1", "stop egress-bridge", "stop key-service"])
    }

    @Test func restartsACrashedBridge() async throws {
        try await SupervisorHarness.run(workers: 1, configure: Self.withBridge()) { harness, _ in
            let first = try #require(await harness.supervisor.pid(of: "egress-bridge"))
            kill(first, SIGKILL)
            try await eventually("egress-bridge restarted and ready") {
                guard let pid = await harness.supervisor.pid(of: "egress-bridge"), pid != first else { return false }
                return await harness.supervisor.status().contains("egress-bridge pid=\(pid) ready restarts=1")
            }
        }
    }

    @Test func controlRestartReplacesTheBridge() async throws {
        try await SupervisorHarness.run(workers: 1, configure: Self.withBridge()) { harness, _ in
            let first = try #require(await harness.supervisor.pid(of: "egress-bridge"))
            let reply = try await harness.control("restart egress-bridge")
            #expect(reply.contains("restarted egress-bridge"), "\(reply)")
            let second = await harness.supervisor.pid(of: "egress-bridge")
            #expect(second != nil && second != first)
        }
    }

    @Test func aBridgeThatNeverBecomesReadyFailsStartUpBeforeAnyWorker() async throws {
        let outcome = try await SupervisorHarness.run(
            workers: 1,
            configure: { configuration in
                Self.withBridge(environment: ["FAKE_NEVER_READY": "egress-bridge"])(&configuration)
                configuration.readinessTimeout = .seconds(2)
            },
            expectReady: false
        ) { harness, ready in
            #expect(ready == nil)
            #expect(harness.index(of: "start egress-bridge") != nil, "\(harness.events)")
            #expect(harness.index(of: "start worker-") == nil, "no worker starts without a bridge: \(harness.events)")
        }
        let error = try #require(outcome)
        #expect("\(error)".contains("egress-bridge did not become ready"), "\(error)")
    }

    @Test func withoutEgressThereIsNoBridgeAndNoProxyArgument() async throws {
        try await SupervisorHarness.run(workers: 1) { harness, _ in
            #expect(harness.index(of: "start egress-bridge") == nil)
            let worker = try #require(harness.events.first { $0.hasPrefix("start worker-1") })
            #expect(!worker.contains("--egress-proxy"), "\(worker)")
        }
    }

    @Test func aMissingHostProxyIsNamedOnlyWhenEgressIsConfigured() async throws {
        var configuration = SupervisorConfiguration(
            programs: .init(keyService: "/bin/sh", tlsFront: "/bin/sh", worker: "/nonexistent/inference-worker"),
            runtimeDirectory: "/tmp/x",
            listen: try Endpoint.tcp(host: "127.0.0.1", port: 0)
        )
        #expect(configuration.programs.hostProxy == "/nonexistent/host-proxy", "defaults to the worker's directory")
        configuration.programs.worker = "/bin/sh"
        configuration.egressBridge = .init(upstream: .vsock(cid: 3, port: 8001))
        let supervisor = Supervisor(configuration: configuration, output: { _ in })
        await #expect(throws: SupervisorError.missingExecutable(name: "host-proxy", path: "/nonexistent/host-proxy")) {
            try await supervisor.run()
        }
    }

    @Test func ipv6BridgeAddressesAreBracketed() {
        let bridge = SupervisorConfiguration.EgressBridge(upstream: .vsock(cid: 3, port: 8001), host: "::1", port: 3128)
        #expect(bridge.hostAndPort == "[::1]:3128")
        #expect(
            SupervisorConfiguration.EgressBridge(upstream: .vsock(cid: 3, port: 8001)).hostAndPort == "127.0.0.1:3128")
    }
}
