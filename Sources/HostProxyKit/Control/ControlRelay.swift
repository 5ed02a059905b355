import EnclaveIPC

/// `host-proxy ctl`: carries one operator command to the supervisor's control channel inside the
/// enclave and returns its answer.
///
/// The relay is deliberately transparent: it writes the command as one `\n`-terminated line and
/// reads the reply until the supervisor closes the connection (its protocol: one command per
/// connection; `status` answers several lines), without interpreting it, so the supervisor alone
/// defines the commands and their answers and the host cannot add meaning to them.
public enum ControlRelay {
    /// Sends `command` (which must not contain a line break) and returns the whole reply without
    /// its final line break. A reply over `LineExchange.maximumBytes`, or none within `timeout`,
    /// is a `LineExchangeError`.
    public static func send(
        _ command: String,
        to endpoint: Endpoint,
        timeout: Duration = .seconds(30)
    ) async throws -> String {
        guard !command.isEmpty, !command.contains(where: { $0 == "\n" || $0 == "\r" }) else {
            throw ControlRelayError.invalidCommand
        }
        let reply = try await LineExchange.exchange(command + "\n", with: endpoint, timeout: timeout)
        guard reply.hasSuffix("\n") else { throw ControlRelayError.closedBeforeReply(received: reply.utf8.count) }
        return String(reply.dropLast())
    }
}

public enum ControlRelayError: Error, Hashable, Sendable, CustomStringConvertible {
    case invalidCommand
    case closedBeforeReply(received: Int)

    public var description: String {
        switch self {
        case .invalidCommand:
            return "control command must be one non-empty line"
        case .closedBeforeReply(let received):
            return "the supervisor closed the control connection after \(received) bytes, before a full reply line"
        }
    }
}
