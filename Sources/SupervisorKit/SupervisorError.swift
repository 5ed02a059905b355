/// Why the supervisor could not do what it was asked.
public enum SupervisorError: Error, Hashable, Sendable, CustomStringConvertible {
    case spawnFailed(name: String, executable: String, reason: String)
    case missingExecutable(name: String, path: String)
    case notReady(name: String, after: Duration, detail: String)
    case childExited(name: String, status: String)
    case tlsFrontRefused(command: String, reply: String)
    case invalidCommand(String)
    case runtimeDirectory(String)
    /// A setting that cannot work (a role as root, two roles sharing a uid, an unreachable path).
    case invalidConfiguration(String)
    /// The appliance stopped on its own (start-up failed, or key-service died).
    case applianceStopped(String)

    public var description: String {
        switch self {
        case .spawnFailed(let name, let executable, let reason):
            return "could not start \(name) (\(executable)): \(reason)"
        case .missingExecutable(let name, let path):
            return "\(name) executable not found at \(path); build the package (swift build) or pass --bin-dir"
        case .notReady(let name, let after, let detail):
            return "\(name) did not become ready within \(after): \(detail)"
        case .childExited(let name, let status):
            return "\(name) \(status) before it became ready"
        case .tlsFrontRefused(let command, let reply):
            return "tls-front refused '\(command)': \(reply)"
        case .invalidCommand(let reason):
            return reason
        case .invalidConfiguration(let reason):
            return reason
        case .runtimeDirectory(let reason):
            return "runtime directory: \(reason)"
        case .applianceStopped(let reason):
            return "appliance stopped: \(reason)"
        }
    }
}
