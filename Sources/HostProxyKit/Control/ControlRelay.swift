import Crypto
import EnclaveIPC
import GatewayCore

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

    /// Sends `command` signed by the operator key (`SignedControlCommand`), which the host-facing
    /// listener requires for everything but `status` and `metrics`. It first asks `status` for the
    /// appliance's `tee_id`, the value the signature is bound to; the key never leaves this host.
    /// `counter` must exceed every counter the appliance accepted before (milliseconds since
    /// 1970 by default, so consecutive runs need no state).
    public static func sendSigned(
        _ command: String,
        to endpoint: Endpoint,
        key: Curve25519.Signing.PrivateKey,
        counter: UInt64,
        timeout: Duration = .seconds(30)
    ) async throws -> String {
        let status = try await send("status", to: endpoint, timeout: timeout)
        let teeID = try teeID(fromStatus: status)
        let signed = try SignedControlCommand.sign(command, teeID: teeID, counter: counter, key: key)
        return try await send(signed.line, to: endpoint, timeout: timeout)
    }

    /// The `tee_id=0x…` field of a `status` reply (on the appliance line).
    static func teeID(fromStatus reply: String) throws -> TEEID {
        for field in reply.split(whereSeparator: { $0 == " " || $0 == "\n" }) where field.hasPrefix("tee_id=") {
            if let teeID = TEEID(String(field.dropFirst("tee_id=".count))) { return teeID }
        }
        throw ControlRelayError.noTeeID(reply: String(reply.prefix(200)))
    }
}

/// Why a control command got no usable answer.
public enum ControlRelayError: Error, Hashable, Sendable, CustomStringConvertible {
    case invalidCommand
    case closedBeforeReply(received: Int)
    case noTeeID(reply: String)

    public var description: String {
        switch self {
        case .invalidCommand:
            return "control command must be one non-empty line"
        case .closedBeforeReply(let received):
            return "the supervisor closed the control connection after \(received) bytes, before a full reply line"
        case .noTeeID(let reply):
            return "the appliance's status names no tee_id yet (is it still starting?), so there is nothing to sign for: \(reply)"
        }
    }
}
