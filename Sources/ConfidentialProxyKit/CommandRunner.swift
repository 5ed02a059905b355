import Foundation
import Logging

/// `confidential-proxy run -- COMMAND [ARGS…]`: the proxy on a free loopback port for the
/// lifetime of one command (the seed's `confidential-claude`, in general form). The command gets
/// `OPENAI_BASE_URL` and `ANTHROPIC_BASE_URL` pointing at the proxy and inherits everything
/// else; the proxy stops when it exits, and its exit status becomes ours.
public struct CommandRunner: Sendable {
    public let runner: ProxyRunner
    public let command: [String]

    public init(runner: ProxyRunner, command: [String]) {
        self.runner = runner
        self.command = command
    }

    /// The SDK base URLs for a proxy at `base` (`http://127.0.0.1:PORT`) serving `compat`.
    /// OpenAI SDKs expect the `/v1` in the base URL; Anthropic SDKs append `/v1/messages`.
    public static func baseURLs(base: String, compat: CompatMode) -> [String: String] {
        switch compat {
        case .openai: ["OPENAI_BASE_URL": base + "/v1"]
        case .anthropic: ["ANTHROPIC_BASE_URL": base]
        case .both: ["OPENAI_BASE_URL": base + "/openai/v1", "ANTHROPIC_BASE_URL": base + "/anthropic"]
        }
    }

    /// Runs the command once the proxy listens; returns the command's exit status (128+N when
    /// a signal ended it).
    public func run() async throws -> Int32 {
        let exit = ExitBox()
        let settings = runner.settings
        let logger = runner.logger
        try await runner.run(
            onListening: { port in
                let base = "http://\(settings.host.contains(":") ? "[\(settings.host)]" : settings.host):\(port)"
                var environment = ProcessInfo.processInfo.environment
                for (name, value) in Self.baseURLs(base: base, compat: settings.compat) { environment[name] = value }
                let process = Process()
                process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
                process.arguments = command
                process.environment = environment
                process.terminationHandler = { process in
                    let status = process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
                    exit.finish(status)
                }
                do { try process.run() } catch {
                    logger.error("cannot run \(command.first ?? ""): \(error)")
                    exit.finish(127)
                }
            },
            until: { await exit.wait() }, exitStatus: { await exit.wait() })
        return await exit.wait()
    }
}

/// The command's exit status, awaited by the proxy's shutdown and by `run`.
private final class ExitBox: @unchecked Sendable {
    private let lock = NSLock()
    private var status: Int32?
    private var waiters: [CheckedContinuation<Int32, Never>] = []

    func finish(_ value: Int32) {
        let resumed: [CheckedContinuation<Int32, Never>] = lock.withLock {
            guard status == nil else { return [] }
            status = value
            defer { waiters = [] }
            return waiters
        }
        resumed.forEach { $0.resume(returning: value) }
    }

    func wait() async -> Int32 {
        await withCheckedContinuation { continuation in
            let ready: Int32? = lock.withLock {
                if let status { return status }
                waiters.append(continuation)
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }
}
