import CProcess
import Foundation
import Synchronization

/// How a child ended.
public enum ChildExit: Hashable, Sendable, CustomStringConvertible {
    case exited(Int32)
    case signalled(Int32)

    public var description: String {
        switch self {
        case .exited(let code): return "exited with status \(code)"
        case .signalled(let signal): return "killed by signal \(signal)"
        }
    }
}

/// What a child runs and under which identity (see `ChildLaunch.make` for the policy).
struct ChildLaunch: Sendable, Hashable {
    var executable: String
    var arguments: [String]
    /// The child's whole environment: nothing is inherited implicitly.
    var environment: [String: String]
    /// The uid and gid to switch to (supervisor running as root); nil keeps the supervisor's.
    var identity: ChildIdentity?
    var umask: mode_t?
}

/// A uid and primary gid a child switches to.
struct ChildIdentity: Sendable, Hashable {
    var uid: UInt32
    var gid: UInt32
    /// Capabilities the child keeps (as ambient capabilities): only `netBindService`, for a
    /// listener on a port below 1024 (vsock 443 in the enclave needs it as much as TCP does).
    var capabilities: Set<Int32> = []

    static let netBindService: Int32 = 10
}

/// One running child process with its output forwarded line by line under a tag
/// (`[worker-2] …`), so the appliance's log stays readable with many children.
///
/// Children are started by `gw_spawn` (CProcess), not Foundation's `Process`, because the
/// isolation has to happen between fork and exec: own session, default signal dispositions and
/// an empty signal mask (the supervisor ignores SIGTERM, SIGINT and SIGPIPE, and Dispatch's
/// threads block signals; both would otherwise be inherited), only the descriptors it needs,
/// `PR_SET_NO_NEW_PRIVS`, and with a `ChildLaunch.identity` an empty bounding set, no
/// supplementary groups and the role's uid and gid.
///
/// The exit is reported when the process ends, not when its pipes close: a grandchild that
/// inherited stdout must not keep the supervisor waiting. Lines still in the pipe are
/// forwarded as they drain.
final class ChildProcess: Sendable {
    let name: String
    let pid: Int32
    /// Kept for the child's lifetime: the read ends of its stdout and stderr.
    private let outputHandles: [FileHandle]
    private let exitStream: AsyncStream<ChildExit>
    private let exitState: ExitRecord

    /// Starts `launch`; `output` receives each tagged line.
    init(name: String, launch: ChildLaunch, output: @escaping @Sendable (String) -> Void) throws(SupervisorError) {
        let failure = { (reason: String) in SupervisorError.spawnFailed(name: name, executable: launch.executable, reason: reason) }
        var stdoutPipe: [Int32] = [-1, -1]
        var stderrPipe: [Int32] = [-1, -1]
        guard gw_pipe(&stdoutPipe) == 0 else { throw failure("pipe: \(String(cString: strerror(errno)))") }
        guard gw_pipe(&stderrPipe) == 0 else {
            close(stdoutPipe[0])
            close(stdoutPipe[1])
            throw failure("pipe: \(String(cString: strerror(errno)))")
        }
        var (spawned, step, code) = Self.spawn(launch, stdout: stdoutPipe[1], stderr: stderrPipe[1])
        // ETXTBSY: the program was open for writing in some process at exec time. A script
        // written moments ago can still be held by another child between its fork and exec
        // (each fork inherits every descriptor until exec closes it); that passes in
        // microseconds, so retry briefly instead of failing the start.
        var attempts = 1
        while spawned < 0, Int(step) == GW_SPAWN_STEP_EXEC, code == ETXTBSY, attempts < 20 {
            usleep(10_000)
            attempts += 1
            (spawned, step, code) = Self.spawn(launch, stdout: stdoutPipe[1], stderr: stderrPipe[1])
        }
        let pid = spawned
        close(stdoutPipe[1])
        close(stderrPipe[1])
        guard pid > 0 else {
            close(stdoutPipe[0])
            close(stderrPipe[0])
            throw failure(Self.describe(step: step, errno: code, launch: launch))
        }
        let (stream, continuation) = AsyncStream<ChildExit>.makeStream()
        let state = ExitRecord()
        let handles = [stdoutPipe[0], stderrPipe[0]].map { FileHandle(fileDescriptor: $0, closeOnDealloc: true) }
        for handle in handles {
            let forwarder = LineForwarder(tag: name, output: output)
            handle.readabilityHandler = { handle in
                let data = handle.availableData
                if data.isEmpty {
                    handle.readabilityHandler = nil
                    forwarder.finish()
                } else {
                    forwarder.append(data)
                }
            }
        }
        // One blocking waitpid per child on its own thread: it reaps exactly this pid, so it
        // never steals another child's status, and needs no SIGCHLD handler.
        Thread.detachNewThread {
            var exitCode: Int32 = 0
            var signalNumber: Int32 = 0
            let exit: ChildExit =
                gw_wait(pid, &exitCode, &signalNumber) != 0 ? .exited(-1)
                : (signalNumber != 0 ? .signalled(signalNumber) : .exited(exitCode))
            state.value.withLock { $0 = exit }
            continuation.yield(exit)
            continuation.finish()
        }
        self.name = name
        self.pid = pid
        self.outputHandles = handles
        self.exitStream = stream
        self.exitState = state
    }

    private static func spawn(_ launch: ChildLaunch, stdout: Int32, stderr: Int32) -> (pid: Int32, step: Int32, errno: Int32) {
        let argv = ([launch.executable] + launch.arguments).map { strdup($0) } + [nil]
        let envp = launch.environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var step: Int32 = 0
        var code: Int32 = 0
        let pid = launch.executable.withCString { path in
            argv.withUnsafeBufferPointer { argvBuffer in
                envp.withUnsafeBufferPointer { envpBuffer in
                    var options = gw_spawn_options()
                    options.path = path
                    options.argv = argvBuffer.baseAddress
                    options.envp = envpBuffer.baseAddress
                    options.stdout_fd = stdout
                    options.stderr_fd = stderr
                    if let identity = launch.identity {
                        options.change_identity = 1
                        options.uid = identity.uid
                        options.gid = identity.gid
                        options.ambient_capabilities = identity.capabilities.reduce(0) { $0 | (1 << UInt64($1)) }
                    }
                    if let mask = launch.umask {
                        options.set_umask = 1
                        options.umask_value = mask
                    }
                    return gw_spawn(&options, &step, &code)
                }
            }
        }
        return (pid, step, code)
    }

    static func describe(step: Int32, errno code: Int32, launch: ChildLaunch) -> String {
        let reason = String(cString: strerror(code))
        let who = launch.identity.map { " as uid \($0.uid) gid \($0.gid)" } ?? ""
        switch Int(step) {
        case GW_SPAWN_STEP_FORK: return "fork failed: \(reason)"
        case GW_SPAWN_STEP_PIPE: return "the start-up report pipe failed: \(reason)"
        case GW_SPAWN_STEP_STDIO: return "setting up stdin/stdout/stderr failed: \(reason)"
        case GW_SPAWN_STEP_SETSID: return "setsid failed: \(reason)"
        case GW_SPAWN_STEP_NO_NEW_PRIVS: return "PR_SET_NO_NEW_PRIVS failed: \(reason)"
        case GW_SPAWN_STEP_CAPABILITIES: return "dropping capabilities failed: \(reason) (the supervisor must run as root to switch users)"
        case GW_SPAWN_STEP_AMBIENT: return "keeping CAP_NET_BIND_SERVICE failed: \(reason)"
        case GW_SPAWN_STEP_GROUPS: return "clearing supplementary groups failed: \(reason)"
        case GW_SPAWN_STEP_GID: return "switching to gid \(launch.identity?.gid ?? 0) failed: \(reason)"
        case GW_SPAWN_STEP_UID: return "switching to uid \(launch.identity?.uid ?? 0) failed: \(reason)"
        case GW_SPAWN_STEP_EXEC:
            return "exec\(who) failed: \(reason)"
                + (code == EACCES ? " (the program and every directory above it must be executable by that user)" : "")
        default: return "failed at step \(step): \(reason)"
        }
    }

    var hasExited: Bool { exitState.value.withLock { $0 != nil } }

    /// Waits for the process to end.
    func waitForExit() async -> ChildExit {
        if let known = exitState.value.withLock({ $0 }) { return known }
        for await exit in exitStream { return exit }
        return exitState.value.withLock { $0 } ?? .exited(-1)
    }

    func signal(_ number: Int32) {
        guard !hasExited else { return }
        kill(pid, number)
    }

    /// SIGTERM, then SIGKILL if the child is still running after `grace`.
    func stop(grace: Duration) async -> ChildExit {
        signal(SIGTERM)
        return await withTaskGroup(of: ChildExit?.self) { group in
            group.addTask { await self.waitForExit() }
            group.addTask {
                try? await Task.sleep(for: grace)
                return nil
            }
            var result: ChildExit?
            for await outcome in group {
                if let outcome {
                    result = outcome
                    break
                }
                self.signal(SIGKILL)
            }
            group.cancelAll()
            return result ?? .signalled(SIGKILL)
        }
    }
}

/// The exit status, shared between the termination handler and waiters (a class, because a
/// `Mutex` cannot be captured by the escaping handler directly).
final class ExitRecord: Sendable {
    let value = Mutex<ChildExit?>(nil)
}

/// Splits a byte stream into lines and emits each as `[tag] line`. Partial lines wait for
/// their newline; a line longer than `maximumLineBytes` is emitted in pieces so a child that
/// never writes a newline cannot grow the buffer without bound.
final class LineForwarder: Sendable {
    static let maximumLineBytes = 16 * 1024
    private let tag: String
    private let output: @Sendable (String) -> Void
    private let pending = Mutex<[UInt8]>([])

    init(tag: String, output: @escaping @Sendable (String) -> Void) {
        self.tag = tag
        self.output = output
    }

    func append(_ data: Data) {
        let lines: [String] = pending.withLock { pending in
            pending.append(contentsOf: data)
            var lines: [String] = []
            while let newline = pending.firstIndex(of: 0x0A) {
                lines.append(String(decoding: pending[..<newline], as: UTF8.self))
                pending.removeSubrange(...newline)
            }
            while pending.count > Self.maximumLineBytes {
                lines.append(String(decoding: pending.prefix(Self.maximumLineBytes), as: UTF8.self))
                pending.removeFirst(Self.maximumLineBytes)
            }
            return lines
        }
        for line in lines { output("[\(tag)] \(line)") }
    }

    func finish() {
        let rest = pending.withLock { pending in
            defer { pending = [] }
            return pending
        }
        if !rest.isEmpty { output("[\(tag)] \(String(decoding: rest, as: UTF8.self))") }
    }
}
