import AsyncHTTPClient
import Foundation
import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Where the proxy keeps its files: `$XDG_DATA_HOME/confidential-proxy`, else
/// `~/.local/share/confidential-proxy`.
public enum DataDirectory {
    public static func resolve(environment: [String: String]) -> URL {
        if let xdg = environment["XDG_DATA_HOME"], xdg.hasPrefix("/") {
            return URL(fileURLWithPath: xdg).appendingPathComponent("confidential-proxy")
        }
        let home = environment["HOME"] ?? NSHomeDirectory()
        return URL(fileURLWithPath: home).appendingPathComponent(".local/share/confidential-proxy")
    }
}

/// The daemon's PID file: one decimal pid and a newline.
public struct PIDFile: Sendable {
    public let url: URL

    public init(url: URL) { self.url = url }

    public func read() -> pid_t? {
        guard let data = FileManager.default.contents(atPath: url.path),
            let pid = pid_t(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0
        else { return nil }
        return pid
    }

    public func write(_ pid: pid_t) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data("\(pid)\n".utf8).write(to: url, options: .atomic)
    }

    public func remove() { try? FileManager.default.removeItem(at: url) }

    /// The recorded pid when that process is alive; a stale file (dead pid) reads as nil.
    public func livePID() -> pid_t? {
        guard let pid = read(), ProcessProbe.isAlive(pid) else { return nil }
        return pid
    }
}

/// Process liveness without being the parent: `kill(pid, 0)`, and on Linux a zombie (state Z in
/// /proc/PID/stat, exited but not yet reaped by its new parent) counts as gone.
public enum ProcessProbe {
    public static func isAlive(_ pid: pid_t) -> Bool {
        guard kill(pid, 0) == 0 || errno == EPERM else { return false }
        #if os(Linux)
            if let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            {
                let state = stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).first
                if state == "Z" || state == "X" { return false }
            }
        #endif
        return true
    }
}

/// What `start`, `stop` and `status` report: the message to print and the exit status.
public struct DaemonOutcome: Sendable, Equatable {
    public let status: Int32
    public let message: String
}

/// `start`, `stop` and `status` of the seed, around a PID file.
public struct DaemonControl: Sendable {
    public let pidFile: PIDFile
    /// `http://HOST:PORT` where the daemon answers `/_proxy/status`.
    public let localURL: String

    public init(pidFile: PIDFile, host: String, port: Int) {
        self.pidFile = pidFile
        let reachable = host == "0.0.0.0" ? "127.0.0.1" : host == "::" ? "[::1]" : host.contains(":") ? "[\(host)]" : host
        localURL = "http://\(reachable):\(port)"
    }

    /// Refuses a duplicate, spawns `executable arguments` detached (own session, stdin from
    /// /dev/null, stdout and stderr appended to `logFile`), writes the PID file and polls
    /// `/_proxy/status` until it answers. If the child exits first, its reason is the tail of the
    /// log file.
    public func start(executable: String, arguments: [String], logFile: URL, timeout: Duration = .seconds(60)) async -> DaemonOutcome {
        if let pid = pidFile.livePID() {
            return DaemonOutcome(status: 1, message: "confidential-proxy is already running (pid \(pid), PID file \(pidFile.url.path)); run `confidential-proxy stop` first")
        }
        if pidFile.read() != nil { pidFile.remove() }  // stale: its process is gone
        let pid: pid_t
        do { pid = try Self.spawnDetached(executable: executable, arguments: arguments, logFile: logFile) } catch {
            return DaemonOutcome(status: 1, message: "cannot start the daemon: \(error)")
        }
        do { try pidFile.write(pid) } catch {
            kill(pid, SIGTERM)
            return DaemonOutcome(status: 1, message: "cannot write the PID file \(pidFile.url.path): \(error)")
        }
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                pidFile.remove()
                return DaemonOutcome(status: 1, message: "the daemon exited during start (status \(status >> 8)): " + Self.tail(of: logFile))
            }
            if await Self.probe(localURL) != nil {
                return DaemonOutcome(status: 0, message: "confidential-proxy started (pid \(pid)) at \(localURL), logs in \(logFile.path)")
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
        kill(pid, SIGKILL)
        pidFile.remove()
        return DaemonOutcome(status: 1, message: "the daemon did not answer at \(localURL) within \(timeout); killed it. " + Self.tail(of: logFile))
    }

    /// SIGTERM, up to `grace` for a graceful exit, then SIGKILL; the PID file goes in every case.
    public func stop(grace: Duration = .seconds(5)) async -> DaemonOutcome {
        guard let pid = pidFile.read() else { return DaemonOutcome(status: 0, message: "confidential-proxy is not running (no PID file at \(pidFile.url.path))") }
        guard ProcessProbe.isAlive(pid) else {
            pidFile.remove()
            return DaemonOutcome(status: 0, message: "confidential-proxy is not running (stale PID file for pid \(pid) removed)")
        }
        kill(pid, SIGTERM)
        let deadline = ContinuousClock.now + grace
        while ContinuousClock.now < deadline {
            if !ProcessProbe.isAlive(pid) {
                pidFile.remove()
                return DaemonOutcome(status: 0, message: "confidential-proxy stopped (pid \(pid))")
            }
            try? await Task.sleep(for: .milliseconds(50))
        }
        kill(pid, SIGKILL)
        for _ in 0..<100 where ProcessProbe.isAlive(pid) { try? await Task.sleep(for: .milliseconds(20)) }
        pidFile.remove()
        return DaemonOutcome(status: 0, message: "confidential-proxy did not stop within \(grace) of SIGTERM; killed it (SIGKILL, pid \(pid))")
    }

    /// Exit 0 only when the PID file's process is alive and `/_proxy/status` answers.
    public func status() async -> DaemonOutcome {
        guard let pid = pidFile.read() else { return DaemonOutcome(status: 1, message: "not running (no PID file at \(pidFile.url.path))") }
        guard ProcessProbe.isAlive(pid) else { return DaemonOutcome(status: 1, message: "not running (stale PID file: pid \(pid) is gone)") }
        guard let body = await Self.probe(localURL) else {
            return DaemonOutcome(status: 1, message: "pid \(pid) is alive but \(localURL)/_proxy/status does not answer")
        }
        let object = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:]
        var lines = ["running: pid \(pid) at \(localURL)"]
        lines.append("gateway: \(object["gateway"] as? String ?? "?")" + ((object["relay"] as? String).map { " via relay \($0)" } ?? " (direct)"))
        lines.append("tee_id: \(object["tee_id"] as? String ?? "none yet")" + ((object["attested"] as? Bool) == false ? " (NOT attested: --no-attest)" : ""))
        lines.append("last verified: \(object["last_verified"] as? String ?? "never")")
        return DaemonOutcome(status: 0, message: lines.joined(separator: "\n"))
    }

    static func probe(_ base: String) async -> [UInt8]? {
        do {
            let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: base + "/_proxy/status"), timeout: .seconds(2))
            guard response.status == .ok else { return nil }
            return Array((try await response.body.collect(upTo: 1 << 20)).readableBytesView)
        } catch {
            return nil
        }
    }

    static func tail(of file: URL) -> String {
        guard let data = FileManager.default.contents(atPath: file.path), !data.isEmpty else { return "(the log file is empty)" }
        let lines = String(decoding: data.suffix(4096), as: UTF8.self).split(separator: "\n")
        return lines.suffix(5).joined(separator: "\n")
    }

    struct SpawnError: Error, CustomStringConvertible {
        let description: String
    }

    /// Open descriptors above 2 without FD_CLOEXEC.
    static func inheritableDescriptors() -> [Int32] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return names.compactMap(Int32.init).filter { $0 > 2 && fcntl($0, F_GETFD) >= 0 && fcntl($0, F_GETFD) & FD_CLOEXEC == 0 }
    }

    static func spawnDetached(executable: String, arguments: [String], logFile: URL) throws -> pid_t {
        try FileManager.default.createDirectory(at: logFile.deletingLastPathComponent(), withIntermediateDirectories: true)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logFile.path, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // Nothing else of ours reaches the daemon: an inherited pipe end (say, the one a caller
        // reads our output from) would stay open for the daemon's lifetime and hang that reader.
        for descriptor in inheritableDescriptors() { posix_spawn_file_actions_addclose(&actions, descriptor) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Default dispositions and an empty mask: the daemon must not inherit a parent's ignored
        // SIGTERM (or `stop` could only ever SIGKILL it).
        var defaults = sigset_t()
        sigfillset(&defaults)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        let reset = Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK)
        #if os(Linux)
            posix_spawnattr_setflags(&attributes, reset | 0x80)  // POSIX_SPAWN_SETSID (glibc, behind _GNU_SOURCE)
        #else
            posix_spawnattr_setflags(&attributes, reset | Int16(POSIX_SPAWN_SETSID))
        #endif
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        guard result == 0 else { throw SpawnError(description: "posix_spawn \(executable): \(String(cString: strerror(result)))") }
        return pid
    }
}
