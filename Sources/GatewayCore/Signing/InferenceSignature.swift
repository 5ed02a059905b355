#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A tool call as it appears in a signed answer. Its JSON form (`{"id","type":"function",
/// "function":{"name","arguments"}}`) is what the output hash covers.
public struct ToolCall: Sendable, Hashable {
    public var id: String
    public var name: String
    /// The arguments as the JSON text the model produced, hashed verbatim (not re-serialized).
    public var arguments: String

    public init(id: String, name: String, arguments: String) {
        self.id = id
        self.name = name
        self.arguments = arguments
    }

    public var json: JSONValue {
        ["id": .string(id), "type": "function", "function": ["name": .string(name), "arguments": .string(arguments)]]
    }
}

/// `tee_output_hash`: what the signature says the gateway answered.
public enum OutputHash {
    /// keccak of the UTF-8 of the whole answer text (not JSON-escaped).
    public static func text(_ text: String) -> Keccak256Digest { Keccak256.hash(text.utf8) }

    /// When the answer is tool calls, keccak of `json.dumps(tool_calls, sort_keys=True)`. Any text
    /// next to the calls is not covered — upstream's rule, kept for verifier compatibility.
    public static func toolCalls(_ calls: [ToolCall]) -> Keccak256Digest {
        Keccak256.hash(JSONWriter.serialize(.array(calls.map(\.json)), style: .canonical))
    }
}

/// The 32-byte messages the enclave key signs. Each is a keccak over a fixed Solidity
/// `abi.encodePacked` layout so contracts can rebuild it; callers supply typed fields, never bytes.
public enum SignedMessage {
    /// Inference results: keccak(requestHash ‖ outputHash ‖ uint256(timestamp)), 96 bytes.
    public static func hash(requestHash: Keccak256Digest, outputHash: Keccak256Digest, timestamp: UInt64) -> Keccak256Digest {
        Keccak256.hash(requestHash.bytes + outputHash.bytes + uint256(timestamp))
    }

    /// Registry heartbeats: keccak(teeID ‖ uint256(timestamp)), 64 bytes.
    public static func heartbeat(teeID: TEEID, timestamp: UInt64) -> Keccak256Digest {
        Keccak256.hash(teeID.digest.bytes + uint256(timestamp))
    }

    /// A big-endian 256-bit integer, as Solidity's `uint256`.
    public static func uint256(_ value: UInt64) -> [UInt8] {
        [UInt8](repeating: 0, count: 24) + (0..<8).map { UInt8(truncatingIfNeeded: value >> UInt64(56 - 8 * $0)) }
    }
}

/// `tee_id`: keccak of the signing key's SubjectPublicKeyInfo DER, written `0x…`. It names one
/// boot of one enclave: a new key (restart) is a new `tee_id`.
public struct TEEID: Sendable, Hashable, CustomStringConvertible {
    public let digest: Keccak256Digest

    public init(spkiDER: [UInt8]) { digest = Keccak256.hash(spkiDER) }

    public init(digest: Keccak256Digest) { self.digest = digest }

    /// Parses `0x` + 64 hex digits (the prefix is required: it is part of the wire format).
    public init?(_ text: String) {
        guard text.hasPrefix("0x"), let digest = Keccak256Digest(hex: text) else { return nil }
        self.digest = digest
    }

    public var description: String { "0x" + digest.hex }
}

/// The five `tee_*` fields a signed response carries.
public struct TEESignature: Sendable, Equatable {
    public var requestHash: Keccak256Digest
    public var outputHash: Keccak256Digest
    public var timestamp: UInt64
    /// RSA-PSS signature bytes (256 for RSA-2048).
    public var signature: [UInt8]
    public var teeID: TEEID
    /// A paid answer's charge. When set, `outputHash` is `cost.bind(answerHash:)`, not the
    /// answer's own hash, and `fields` carries `tee_cost` (see ``TEECost``).
    public var cost: TEECost?

    public init(requestHash: Keccak256Digest, outputHash: Keccak256Digest, timestamp: UInt64, signature: [UInt8], teeID: TEEID) {
        self.init(requestHash: requestHash, outputHash: outputHash, timestamp: timestamp, signature: signature, teeID: teeID, cost: nil)
    }

    public init(
        requestHash: Keccak256Digest, outputHash: Keccak256Digest, timestamp: UInt64, signature: [UInt8], teeID: TEEID, cost: TEECost?
    ) {
        self.requestHash = requestHash
        self.outputHash = outputHash
        self.timestamp = timestamp
        self.signature = signature
        self.teeID = teeID
        self.cost = cost
    }

    /// The output hash this signature must carry for an answer whose own hash is `answerHash`.
    public func expectedOutputHash(answerHash: Keccak256Digest) -> Keccak256Digest {
        cost.map { $0.bind(answerHash: answerHash) } ?? answerHash
    }

    public var messageHash: Keccak256Digest {
        SignedMessage.hash(requestHash: requestHash, outputHash: outputHash, timestamp: timestamp)
    }

    /// The response fields, in upstream's spelling: hashes as bare hex, `tee_id` with `0x`,
    /// the signature as padded standard base64.
    public var fields: [(String, JSONValue)] {
        var fields: [(String, JSONValue)] = [
            ("tee_signature", .string(Data(signature).base64EncodedString())),
            ("tee_request_hash", .string(requestHash.hex)),
            ("tee_output_hash", .string(outputHash.hex)),
            ("tee_timestamp", .number(JSONNumber(storage: .integer(String(timestamp))))),
            ("tee_id", .string(teeID.description)),
        ]
        if let cost { fields.append(("tee_cost", cost.json)) }
        return fields
    }

    /// Adds the fields to a response object (or an SSE chunk).
    public func attach(to object: inout JSONObject) {
        for (key, value) in fields { object[key] = value }
    }

    /// Reads the fields back from a response, naming the first one that is missing or malformed.
    public init(response: JSONValue) throws(InvalidRequest) {
        func field(_ name: String) throws(InvalidRequest) -> String {
            guard let value = response[name] else { throw InvalidRequest("response has no '\(name)'", param: name) }
            guard let string = value.stringValue else { throw InvalidRequest("'\(name)' must be a string, not \(value.typeName)", param: name) }
            return string
        }
        guard let requestHash = Keccak256Digest(hex: try field("tee_request_hash")) else {
            throw InvalidRequest("'tee_request_hash' is not 64 hex digits", param: "tee_request_hash")
        }
        guard let outputHash = Keccak256Digest(hex: try field("tee_output_hash")) else {
            throw InvalidRequest("'tee_output_hash' is not 64 hex digits", param: "tee_output_hash")
        }
        guard let teeID = TEEID(try field("tee_id")) else { throw InvalidRequest("'tee_id' is not 0x followed by 64 hex digits", param: "tee_id") }
        guard let signature = Data(base64Encoded: try field("tee_signature")) else {
            throw InvalidRequest("'tee_signature' is not valid base64", param: "tee_signature")
        }
        guard let number = response["tee_timestamp"]?.numberValue, number.isInteger, let timestamp = UInt64(number.description) else {
            throw InvalidRequest("'tee_timestamp' must be a non-negative integer", param: "tee_timestamp")
        }
        let cost: TEECost? = try response["tee_cost"].map { value throws(InvalidRequest) in try TEECost(json: value) }
        self.init(
            requestHash: requestHash, outputHash: outputHash, timestamp: timestamp, signature: Array(signature), teeID: teeID, cost: cost)
    }
}
