import Foundation
import GatewayCore
import Synchronization

/// Decides which lines from the host-facing control listener run. The host relays them but is
/// outside the trust boundary, so:
///
/// - read-only commands (`status`, `metrics`) run for anyone, signed or not;
/// - every other command runs only as a `SignedControlCommand` by the operator key, for this
///   boot's `tee_id`, with a counter above every counter accepted before (checked after the
///   signature, so an unauthenticated caller learns nothing about the counter);
/// - without an operator key the listener is read-only.
///
/// The Unix control socket in the runtime directory does not pass through here: it is mode
/// 0600, so only the supervisor's own user (root in the enclave) can use it.
final class HostControlGate: Sendable {
    static let readOnlyCommands: Set<String> = ["status", "metrics"]

    enum Decision: Equatable {
        case run(String)
        case refused(Refusal, String)
    }

    /// Why a line was refused; the raw value is the `reason` label of the refusal metric.
    enum Refusal: String, CaseIterable, Sendable {
        case unsigned
        case readOnly = "read_only"
        case malformed
        case badSignature = "bad_signature"
        case replay
        case notReady = "not_ready"
    }

    private let operatorKey: OperatorKey?
    private let lastCounter = Mutex<UInt64?>(nil)

    init(operatorKey: OperatorKey?) {
        self.operatorKey = operatorKey
    }

    /// Admits `line` or says why not. An admitted signed command consumes its counter.
    func admit(_ line: String, teeID: TEEID?) -> Decision {
        let signed: SignedControlCommand?
        do {
            signed = try SignedControlCommand(parsingLine: line)
        } catch {
            return .refused(.malformed, "\(error)")
        }
        guard let signed else {
            let command = SignedControlCommand.normalize(line)
            if let verb = command.split(separator: " ").first.map(String.init), Self.readOnlyCommands.contains(verb) {
                return .run(command)
            }
            guard operatorKey != nil else {
                return .refused(
                    .readOnly,
                    "this control listener is read-only (the supervisor was started without --operator-key); only status and metrics run here"
                )
            }
            return .refused(
                .unsigned,
                "'\(command.prefix(40))' changes the appliance and must be signed by the operator key (host-proxy ctl --operator-key-file)"
            )
        }
        guard let operatorKey else {
            return .refused(.readOnly, "this control listener is read-only (the supervisor was started without --operator-key)")
        }
        guard let teeID else {
            return .refused(.notReady, "the appliance is still starting (its tee_id is not known yet); try again")
        }
        guard signed.isSigned(by: operatorKey, for: teeID) else {
            return .refused(.badSignature, "the signature does not verify with the operator key for tee_id \(teeID)")
        }
        let accepted = lastCounter.withLock { last -> Bool in
            if let last, signed.counter <= last { return false }
            last = signed.counter
            return true
        }
        guard accepted else {
            let last = lastCounter.withLock { $0 } ?? 0
            return .refused(.replay, "counter \(signed.counter) is not greater than the last accepted counter \(last)")
        }
        return .run(signed.command)
    }
}

extension Supervisor {
    /// The operator's public key, for the host control gate; nil without `--operator-key`.
    func loadOperatorKey() throws(SupervisorError) -> OperatorKey? {
        guard let path = configuration.operatorKeyPath else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .invalidConfiguration("--operator-key \(path): cannot read the file")
        }
        do {
            return try OperatorKey(parsing: String(decoding: data, as: UTF8.self))
        } catch {
            throw .invalidConfiguration("--operator-key \(path): \(error)")
        }
    }

    /// Logs and counts a refused host command; the appliance carries on.
    func hostCommandRefused(_ reason: HostControlGate.Refusal) {
        output("[supervisor] host control command refused (\(reason.rawValue))")
        metrics.refused(reason)
    }
}
