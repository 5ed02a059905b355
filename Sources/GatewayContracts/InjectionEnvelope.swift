import Crypto
import Foundation
import GatewayCore
import OHTTP

/// The body of `POST /v1/keys` (ARCHITECTURE §5.3), as key-service receives it:
///
///     {"sealed": "<base64>", "counter": 7, "tee_id": "0x…", "signature": "<base64>"}
///
/// - `sealed` is an RFC 9458 encapsulated request (`message/ohttp-req` layout) to the attested
///   X25519 OHTTP key config; its plaintext is a JSON object of provider key names to API keys
///   (`{"openai_api_key": "sk-…"}`, the names `ModelRoute.keyName` uses). Reusing the OHTTP
///   encapsulation means the secrets are sealed to a key the attestation document binds, with
///   no second HPKE key to attest. Were the envelope replayed to an OHTTP gateway route, any
///   response would be sealed to the operator's ephemeral context, so the relay learns nothing.
/// - `counter` must be greater than the last counter key-service accepted (replay protection).
/// - `tee_id` must name this key-service's signing key, so an envelope made for one enclave
///   boot is useless on another.
/// - `signature` is the operator's Ed25519 signature over `signedMessage`, a fixed layout so no
///   other message the operator signs can be mistaken for an envelope.
public struct InjectionEnvelope: Sendable {
    /// Domain separator of `signedMessage`.
    public static let domain = "enclave-gateway/inject-secrets/v1"

    public let sealed: [UInt8]
    public let counter: UInt64
    public let teeID: TEEID
    public let signature: [UInt8]

    public init(sealed: [UInt8], counter: UInt64, teeID: TEEID, signature: [UInt8]) {
        self.sealed = sealed
        self.counter = counter
        self.teeID = teeID
        self.signature = signature
    }

    /// `domain ‖ 0x00 ‖ tee_id (32 bytes) ‖ counter (u64 big-endian) ‖ SHA-256(sealed)`.
    public static func signedMessage(sealed: [UInt8], counter: UInt64, teeID: TEEID) -> [UInt8] {
        var message = Array(domain.utf8) + [0]
        message += teeID.digest.bytes
        message += (0..<8).map { UInt8(truncatingIfNeeded: counter >> UInt64(56 - 8 * $0)) }
        message += Array(SHA256.hash(data: sealed))
        return message
    }

    /// What `gatewayctl keys inject` does: seals `secrets` to `config` (the attested X25519
    /// OHTTP key config) and signs the result with the operator key.
    public static func seal(
        secrets: [String: String],
        to config: KeyConfig,
        counter: UInt64,
        teeID: TEEID,
        operatorKey: Curve25519.Signing.PrivateKey
    ) throws -> InjectionEnvelope {
        let plaintext = JSONWriter.serialize(
            .object(JSONObject(secrets.sorted { $0.key < $1.key }.map { ($0.key, JSONValue.string($0.value)) })),
            style: .compact
        )
        let sealed = try OHTTPClient.encapsulate(request: plaintext, config: config).bytes
        let signature = try operatorKey.signature(for: signedMessage(sealed: sealed, counter: counter, teeID: teeID))
        return InjectionEnvelope(sealed: sealed, counter: counter, teeID: teeID, signature: Array(signature))
    }

    /// Strict parse: exactly the four fields, typed as documented. Every problem names the
    /// field; key-service answers it as `malformed` (HTTP 400).
    public init(parsing bytes: [UInt8]) throws(InjectionEnvelopeError) {
        let value: JSONValue
        do {
            value = try JSONParser(maxDepth: 4).parse(bytes)
        } catch {
            throw InjectionEnvelopeError("injection envelope is not JSON: \(error)")
        }
        guard let object = value.objectValue else {
            throw InjectionEnvelopeError("injection envelope must be a JSON object, not \(value.typeName)")
        }
        let expected: Set<String> = ["sealed", "counter", "tee_id", "signature"]
        if let unknown = object.keys.first(where: { !expected.contains($0) }) {
            throw InjectionEnvelopeError("injection envelope has an unknown field '\(unknown)'")
        }
        func string(_ field: String) throws(InjectionEnvelopeError) -> String {
            guard let member = object[field] else {
                throw InjectionEnvelopeError("injection envelope has no '\(field)'")
            }
            guard let text = member.stringValue else {
                throw InjectionEnvelopeError("injection envelope '\(field)' must be a string, not \(member.typeName)")
            }
            return text
        }
        func base64(_ field: String) throws(InjectionEnvelopeError) -> [UInt8] {
            guard let data = Data(base64Encoded: try string(field)) else {
                throw InjectionEnvelopeError("injection envelope '\(field)' is not standard padded base64")
            }
            return Array(data)
        }
        guard let teeID = TEEID(try string("tee_id")) else {
            throw InjectionEnvelopeError("injection envelope 'tee_id' must be 0x followed by 64 hex digits")
        }
        guard let number = object["counter"]?.numberValue, number.isInteger, let counter = UInt64(number.description) else {
            throw InjectionEnvelopeError("injection envelope 'counter' must be an integer from 0 to \(UInt64.max)")
        }
        self.init(sealed: try base64("sealed"), counter: counter, teeID: teeID, signature: try base64("signature"))
    }

    /// The JSON form `init(parsing:)` reads. Every value is base64, hex or a decimal integer, so
    /// none needs escaping (and a UInt64 counter above `Int.max` stays exact).
    public func encoded() -> [UInt8] {
        let sealed = Data(sealed).base64EncodedString()
        let signature = Data(signature).base64EncodedString()
        return Array(#"{"sealed":"\#(sealed)","counter":\#(counter),"tee_id":"\#(teeID)","signature":"\#(signature)"}"#.utf8)
    }

    /// Whether `operatorKey` signed this envelope.
    public func isSigned(by operatorKey: Curve25519.Signing.PublicKey) -> Bool {
        operatorKey.isValidSignature(signature, for: Self.signedMessage(sealed: sealed, counter: counter, teeID: teeID))
    }
}

/// Why an injection envelope does not parse; `description` names the field.
public struct InjectionEnvelopeError: Error, Hashable, Sendable, CustomStringConvertible {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}
