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

/// One running child process with its output forwarded line by line under a tag
/// (`[worker-2] …`), so the appliance's log stays readable with many children.
///
/// The exit is reported when the process ends, not when its pipes close: a grandchild that
/// inherited stdout must not keep the supervisor waiting. Lines still in the pipe are
/// forwarded as they drain.
final class ChildProcess: Sendable {
    let name: String
    let pid: Int32
    private let process: Process
    private let exitStream: AsyncStream<ChildExit>
    private let exitState: ExitRecord

    /// Starts `executable` with `arguments`; `output` receives each tagged line.
    init(name: String, executable: String, arguments: [String], output: @escaping @Sendable (String) -> Void) throws(SupervisorError) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = FileHandle.nullDevice
        let (stream, continuation) = AsyncStream<ChildExit>.makeStream()
        let state = ExitRecord()
        let forwarders = [LineForwarder(tag: name, output: output), LineForwarder(tag: name, output: output)]
        for (pipe, forwarder) in zip([stdout, stderr], forwarders) {
            pipe.fileHandleForReading.readabilityHandler = { handle in
                let data = handle.availableData
                if data.isEmpty {
                    handle.readabilityHandler = nil
                    forwarder.finish()
                } else {
                    forwarder.append(data)
                }
            }
        }
        process.terminationHandler = { process in
            let exit: ChildExit =
                process.terminationReason == .uncaughtSignal
                ? .signalled(process.terminationStatus) : .exited(process.terminationStatus)
            state.value.withLock { $0 = exit }
            continuation.yield(exit)
            continuation.finish()
        }
        do {
            try process.run()
        } catch {
            throw .spawnFailed(name: name, executable: executable, reason: "\(error)")
        }
        self.name = name
        self.pid = process.processIdentifier
        self.process = process
        self.exitStream = stream
        self.exitState = state
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
