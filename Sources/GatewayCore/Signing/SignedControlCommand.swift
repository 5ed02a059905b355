import Crypto

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A supervisor control command signed by the operator, the only form in which the host-facing
/// control listener (`supervisor --control-listen`) runs a command that changes the appliance.
/// The host carries the line but sits outside the trust boundary, so it must not be able to
/// make one up, and one it has seen must not work twice.
///
/// On the wire it is one line:
///
///     signed <counter> <base64 signature> <command words…>
///
/// e.g. `signed 1765065600123 3q2+7w…== scale 3`. The signature is Ed25519 by the operator key
/// over `signedMessage`:
///
///     "enclave-gateway/control/v1" ‖ 0x00 ‖ tee_id (32 bytes) ‖ counter (u64 big-endian) ‖ command (UTF-8)
///
/// - `command` is the command's words joined by single spaces (`scale 3`), as the supervisor
///   reads it, so whitespace cannot change what was signed.
/// - `tee_id` names this boot's key-service signing key: a command signed for one appliance
///   (or one boot) is refused by every other.
/// - `counter` must be greater than every counter the supervisor accepted before; the operator
///   tool uses milliseconds since 1970, so it needs no state.
/// - The domain separator differs from `InjectionEnvelope`'s, so neither signature can stand in
///   for the other.
public struct SignedControlCommand: Sendable, Hashable {
    public static let domain = "enclave-gateway/control/v1"
    /// The first word of a signed line.
    public static let keyword = "signed"

    /// The command as the supervisor runs it, normalized (`scale 3`).
    public let command: String
    /// Must exceed every counter the supervisor accepted before: what makes a replay fail.
    public let counter: UInt64
    /// 64 bytes of Ed25519 over `signedMessage`.
    public let signature: [UInt8]

    /// Takes the parts as given (normalizing `command`); `sign` makes a valid one.
    public init(command: String, counter: UInt64, signature: [UInt8]) {
        self.command = Self.normalize(command)
        self.counter = counter
        self.signature = signature
    }

    /// The command's words joined by single spaces (spaces, tabs and CR separate words).
    public static func normalize(_ command: String) -> String {
        command.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" }).joined(separator: " ")
    }

    /// The exact bytes the operator signs (layout above); both signer and verifier build them
    /// here, so they cannot drift apart.
    public static func signedMessage(command: String, teeID: TEEID, counter: UInt64) -> [UInt8] {
        var message = Array(domain.utf8) + [0]
        message += teeID.digest.bytes
        message += (0..<8).map { UInt8(truncatingIfNeeded: counter >> UInt64(56 - 8 * $0)) }
        message += Array(normalize(command).utf8)
        return message
    }

    /// What `host-proxy ctl --operator-key-file` does.
    public static func sign(
        _ command: String, teeID: TEEID, counter: UInt64, key: Curve25519.Signing.PrivateKey
    ) throws -> SignedControlCommand {
        let signature = try key.signature(for: signedMessage(command: command, teeID: teeID, counter: counter))
        return SignedControlCommand(command: command, counter: counter, signature: Array(signature))
    }

    /// The line to send (without its line break).
    public var line: String {
        "\(Self.keyword) \(counter) \(Data(signature).base64EncodedString()) \(command)"
    }

    /// Parses a line that starts with `signed`; nil for any other line (an unsigned command).
    public init?(parsingLine line: String) throws(SignedControlCommandError) {
        let words = Self.normalize(line).split(separator: " ").map(String.init)
        guard words.first == Self.keyword else { return nil }
        guard words.count >= 4 else {
            throw .malformed("expected 'signed COUNTER SIGNATURE COMMAND…', got \(words.count) words")
        }
        guard let counter = UInt64(words[1]) else {
            throw .malformed("counter '\(words[1].prefix(24))' is not an integer from 0 to \(UInt64.max)")
        }
        guard let signature = Data(base64Encoded: words[2]), signature.count == 64 else {
            throw .malformed("signature must be the standard base64 of 64 bytes (Ed25519)")
        }
        self.init(command: words[3...].joined(separator: " "), counter: counter, signature: Array(signature))
    }

    /// Whether `key` signed this command for `teeID`.
    public func isSigned(by key: OperatorKey, for teeID: TEEID) -> Bool {
        key.publicKey.isValidSignature(signature, for: Self.signedMessage(command: command, teeID: teeID, counter: counter))
    }
}

/// Why a line starting with `signed` is not a well-formed signed command.
public enum SignedControlCommandError: Error, Hashable, Sendable, CustomStringConvertible {
    case malformed(String)

    public var description: String {
        switch self {
        case .malformed(let reason): "signed control command: \(reason)"
        }
    }
}
