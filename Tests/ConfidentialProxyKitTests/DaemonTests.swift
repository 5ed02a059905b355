import ConfidentialProxyKit
import Foundation
import Testing

/// The daemon commands on real processes (stand-ins for the proxy, so each case is fast and
/// the one that ignores SIGTERM is deterministic). The real proxy's lifecycle runs in
/// ApplianceTests' ConfidentialProxyTests.
@Suite("confidential-proxy daemon control", .serialized)
struct DaemonTests {
    private func scratch() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cpx-daemon-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    private func freePort() throws -> Int {
        let result = try runPython("import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])", [])
        return try #require(Int(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
    }

    /// A stand-in daemon answering /_proxy/status; with `ignoreTERM` it shrugs off SIGTERM.
    private func standIn(port: Int, ignoreTERM: Bool) -> [String] {
        let script = """
            import http.server, signal, json
            \(ignoreTERM ? "signal.signal(signal.SIGTERM, signal.SIG_IGN)" : "")
            class H(http.server.BaseHTTPRequestHandler):
                def do_GET(self):
                    body = json.dumps({"gateway": "https://127.0.0.1:8443", "tee_id": "0xfeed", "last_verified": "2026-12-07T00:00:00Z", "attested": True}).encode()
                    self.send_response(200 if self.path == "/_proxy/status" else 404); self.end_headers(); self.wfile.write(body)
                def log_message(self, *a): pass
            http.server.HTTPServer(("127.0.0.1", \(port)), H).serve_forever()
            """
        return ["python3", "-c", script]
    }

    @Test func startStatusDuplicateStop() async throws {
        let directory = try scratch()
        let port = try freePort()
        let control = DaemonControl(pidFile: PIDFile(url: directory.appendingPathComponent("proxy.pid")), host: "127.0.0.1", port: port)
        let log = directory.appendingPathComponent("proxy.log")
        let started = await control.start(executable: "/usr/bin/env", arguments: standIn(port: port, ignoreTERM: false), logFile: log)
        #expect(started.status == 0, "\(started.message)")
        let pid = try #require(control.pidFile.read())
        #expect(ProcessProbe.isAlive(pid))

        let status = await control.status()
        #expect(status.status == 0, "\(status.message)")
        #expect(status.message.contains("pid \(pid)") && status.message.contains("0xfeed") && status.message.contains("2026-12-07"))

        let duplicate = await control.start(executable: "/usr/bin/env", arguments: standIn(port: port, ignoreTERM: false), logFile: log)
        #expect(duplicate.status == 1)
        #expect(duplicate.message.contains("already running (pid \(pid)"), "\(duplicate.message)")

        let stopped = await control.stop()
        #expect(stopped.status == 0)
        #expect(stopped.message.contains("stopped (pid \(pid))"), "\(stopped.message)")
        #expect(!ProcessProbe.isAlive(pid))
        #expect(control.pidFile.read() == nil, "stop removes the PID file")
        #expect(await control.status().status == 1)
    }

    @Test func stuckDaemonNeedsSIGKILL() async throws {
        let directory = try scratch()
        let port = try freePort()
        let control = DaemonControl(pidFile: PIDFile(url: directory.appendingPathComponent("proxy.pid")), host: "127.0.0.1", port: port)
        let started = await control.start(
            executable: "/usr/bin/env", arguments: standIn(port: port, ignoreTERM: true), logFile: directory.appendingPathComponent("log"))
        #expect(started.status == 0, "\(started.message)")
        let pid = try #require(control.pidFile.read())
        let stopped = await control.stop(grace: .seconds(1))
        #expect(stopped.message.contains("SIGKILL"), "\(stopped.message)")
        #expect(!ProcessProbe.isAlive(pid))
        #expect(control.pidFile.read() == nil)
    }

    @Test func failedStartReportsTheChildsReason() async throws {
        let directory = try scratch()
        let control = DaemonControl(pidFile: PIDFile(url: directory.appendingPathComponent("proxy.pid")), host: "127.0.0.1", port: try freePort())
        let outcome = await control.start(
            executable: "/bin/sh", arguments: ["-c", "echo 'CLIENT_KEK: must be exactly 32 bytes' >&2; exit 64"],
            logFile: directory.appendingPathComponent("log"))
        #expect(outcome.status == 1)
        #expect(outcome.message.contains("CLIENT_KEK: must be exactly 32 bytes"), "\(outcome.message)")
        #expect(outcome.message.contains("status 64"), "\(outcome.message)")
        #expect(control.pidFile.read() == nil)
    }

    @Test func stalePIDFileIsNotADuplicate() async throws {
        let directory = try scratch()
        let pidFile = PIDFile(url: directory.appendingPathComponent("proxy.pid"))
        try pidFile.write(999_999)  // beyond pid_max on a default Linux: no such process
        #expect(pidFile.livePID() == nil)
        let control = DaemonControl(pidFile: pidFile, host: "127.0.0.1", port: try freePort())
        let status = await control.status()
        #expect(status.status == 1 && status.message.contains("stale"))
        let stopped = await control.stop()
        #expect(stopped.status == 0 && stopped.message.contains("stale"))
        #expect(pidFile.read() == nil)
    }
}
