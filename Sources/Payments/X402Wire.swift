#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import GatewayCore

/// x402 on the wire (protocol version 2, version 1 payments accepted): the `PAYMENT-REQUIRED`
/// challenge, the client's `PAYMENT-SIGNATURE` (v1: `X-PAYMENT`) and the `PAYMENT-RESPONSE`
/// settlement receipt. Every header is base64 of compact JSON.
public enum X402 {
    public static let version = 2
    public static let paymentRequiredHeader = "payment-required"
    public static let paymentSignatureHeader = "payment-signature"
    public static let legacyPaymentHeader = "x-payment"
    public static let paymentResponseHeader = "payment-response"
    public static let sessionHeader = "x-upto-session"

    /// Standard base64 (with padding) of the compact JSON.
    public static func encodeHeader(_ value: JSONValue) -> String {
        Data(JSONWriter.serialize(value, style: .compact)).base64EncodedString()
    }

    /// The JSON in a header; accepts standard and URL-safe base64, padded or not.
    public static func decodeHeader(_ text: String) throws(PaymentError) -> JSONValue {
        var normalized = text.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "-", with: "+")
            .replacingOccurrences(of: "_", with: "/")
        while normalized.count % 4 != 0 { normalized += "=" }
        guard normalized.utf8.count <= 64 * 1024, let data = Data(base64Encoded: normalized) else {
            throw .malformedPayment("the payment header is not base64")
        }
        do { return try JSONParser().parse(Array(data)) } catch { throw .malformedPayment("the payment header is not base64 of JSON: \(error)") }
    }
}

/// One way to pay for a resource (`accepts[]` entry).
public struct PaymentRequirements: Sendable {
    public var scheme: PaymentConfiguration.Scheme
    public var network: String
    public var asset: String
    public var payTo: String
    public var amount: Amount
    public var maxTimeoutSeconds: Int
    /// The token's EIP-712 domain (`name`, `version`) and whatever the facilitator advertises for
    /// this scheme in `/supported` (e.g. the upto scheme's `facilitatorAddress`).
    public var extra: JSONObject

    public init(scheme: PaymentConfiguration.Scheme, configuration: PaymentConfiguration, amount: Amount, extra facilitatorExtra: JSONObject = JSONObject()) {
        self.scheme = scheme
        network = configuration.network
        asset = configuration.asset
        payTo = configuration.payTo
        self.amount = amount
        maxTimeoutSeconds = 300
        var extra = JSONObject([("name", .string(configuration.assetName)), ("version", .string(configuration.assetVersion))])
        for (key, value) in facilitatorExtra where extra[key] == nil { extra[key] = value }
        self.extra = extra
    }

    /// v2 `amount`, and v1's `maxAmountRequired` with the same value for v1 clients.
    public func json(resource: String) -> JSONValue {
        [
            "scheme": .string(scheme.rawValue), "network": .string(network), "asset": .string(asset), "payTo": .string(payTo),
            "amount": .string(amount.description), "maxAmountRequired": .string(amount.description),
            "resource": .string(resource), "mimeType": "application/json", "maxTimeoutSeconds": .number(JSONNumber(maxTimeoutSeconds)),
            "extra": .object(extra),
        ]
    }
}

/// The 402 challenge: header and body carry the same JSON.
public struct PaymentRequired: Sendable {
    public var error: String
    public var resource: String
    public var accepts: [PaymentRequirements]

    public init(error: String, resource: String, accepts: [PaymentRequirements]) {
        self.error = error
        self.resource = resource
        self.accepts = accepts
    }

    public var json: JSONValue {
        [
            "x402Version": .number(JSONNumber(X402.version)), "error": .string(error),
            "resource": ["url": .string(resource), "description": "signed LLM inference", "mimeType": "application/json"],
            "accepts": .array(accepts.map { $0.json(resource: resource) }),
        ]
    }
}

/// A client's payment as sent, kept verbatim for the facilitator, with the parts the gateway
/// checks before asking it.
public struct PaymentPayload: Sendable {
    /// The decoded header, forwarded to `/verify` and `/settle` unchanged.
    public let raw: JSONValue
    public let version: Int
    public let scheme: String
    public let network: String
    /// v2: `accepted` as the client echoed it; nil for v1.
    public let accepted: JSONObject?
    /// What the client authorized: `accepted.amount` (v2), else `payload.authorization.value`.
    public let amount: Amount?

    public init(header: String) throws(PaymentError) {
        let raw = try X402.decodeHeader(header)
        guard let object = raw.objectValue else { throw .malformedPayment("the payment must be a JSON object") }
        guard let version = object["x402Version"]?.numberValue?.intValue, version == 1 || version == 2 else {
            throw .malformedPayment("x402Version must be 1 or 2")
        }
        guard object["payload"]?.objectValue != nil else { throw .malformedPayment("the payment has no 'payload' object") }
        self.raw = raw
        self.version = version
        let authorized = object["payload"]?["authorization"]?["value"]?.stringValue.flatMap { Amount(decimal: $0) }
            ?? object["payload"]?["permit2Authorization"]?["permitted"]?["amount"]?.stringValue.flatMap { Amount(decimal: $0) }
        if version == 2 {
            guard let accepted = object["accepted"]?.objectValue else { throw .malformedPayment("an x402 v2 payment needs 'accepted'") }
            guard let scheme = accepted["scheme"]?.stringValue, let network = accepted["network"]?.stringValue else {
                throw .malformedPayment("'accepted' needs 'scheme' and 'network'")
            }
            self.accepted = accepted
            self.scheme = scheme
            self.network = network
            amount = accepted["amount"]?.stringValue.flatMap { Amount(decimal: $0) } ?? authorized
        } else {
            guard let scheme = object["scheme"]?.stringValue, let network = object["network"]?.stringValue else {
                throw .malformedPayment("an x402 v1 payment needs 'scheme' and 'network'")
            }
            accepted = nil
            self.scheme = scheme
            self.network = network
            amount = authorized
        }
    }

    /// A stable identity for replay refusal: sha256 hex of the canonical JSON of `payload` (the
    /// signed authorization), so re-encoding the same payment differently is still a replay.
    public var fingerprint: String {
        let payload = raw["payload"] ?? .null
        return Hex.encode(Keccak256.hash(JSONWriter.serialize(payload, style: .canonical)).bytes)
    }

    /// Checks the payment is for this gateway, on this network, in this asset, to this payee;
    /// returns the requirements to send the facilitator (amount = what the client authorized).
    public func requirements(for configuration: PaymentConfiguration, extra: JSONObject) throws(PaymentError) -> PaymentRequirements {
        guard let scheme = PaymentConfiguration.Scheme(rawValue: scheme), configuration.schemes.contains(scheme) else {
            throw .notAccepted("scheme '\(self.scheme)' is not accepted here (accepted: \(configuration.schemes.map(\.rawValue).joined(separator: ", ")))")
        }
        guard network == configuration.network else { throw .notAccepted("network \(network) is not \(configuration.network)") }
        if let accepted {
            guard accepted["asset"]?.stringValue?.lowercased() == configuration.asset.lowercased() else {
                throw .notAccepted("the payment is not in asset \(configuration.asset)")
            }
            guard accepted["payTo"]?.stringValue?.lowercased() == configuration.payTo.lowercased() else {
                throw .notAccepted("the payment is not to \(configuration.payTo)")
            }
        }
        guard let amount, amount > .zero else { throw .malformedPayment("the payment names no positive amount") }
        return PaymentRequirements(scheme: scheme, configuration: configuration, amount: amount, extra: extra)
    }
}

/// A settlement as the facilitator reported it; `PAYMENT-RESPONSE` carries it to the client.
public struct SettlementReceipt: Sendable, Equatable {
    public var success: Bool
    public var transaction: String
    public var network: String
    public var payer: String?
    public var amount: Amount
    public var errorReason: String?

    public var json: JSONValue {
        var object = JSONObject([
            ("success", .bool(success)), ("transaction", .string(transaction)), ("network", .string(network)),
            ("amount", .string(amount.description)),
        ])
        if let payer { object["payer"] = .string(payer) }
        if let errorReason { object["errorReason"] = .string(errorReason) }
        return .object(object)
    }
}

/// Why a request is not served as paid. `status` is what the client gets.
public enum PaymentError: Error, Equatable, CustomStringConvertible {
    case malformedPayment(String)
    case notAccepted(String)
    case insufficient(String)
    case invalid(String)
    case replayed
    case unknownSession
    case facilitatorUnavailable(String)
    case settlementFailed(String)

    /// 402 for everything the client can fix by paying (again); 502/504 when the facilitator
    /// could not be asked, so the client retries instead of paying twice.
    public var status: Int {
        switch self {
        case .facilitatorUnavailable(let reason): reason.contains("timed out") ? 504 : 502
        default: 402
        }
    }

    public var description: String {
        switch self {
        case .malformedPayment(let reason): "malformed payment: \(reason)"
        case .notAccepted(let reason): "payment not accepted: \(reason)"
        case .insufficient(let reason): reason
        case .invalid(let reason): "the facilitator refused the payment: \(reason)"
        case .replayed: "this payment was already used; sign a new one"
        case .unknownSession: "unknown, expired or exhausted X-Upto-Session; pay again to open a new session"
        case .facilitatorUnavailable(let reason): "the payment facilitator is unavailable: \(reason)"
        case .settlementFailed(let reason): "settlement failed: \(reason)"
        }
    }
}
