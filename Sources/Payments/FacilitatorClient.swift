import GatewayCore
import Providers
import Synchronization

/// The x402 facilitator's HTTP API: `POST /verify` and `POST /settle` with
/// `{"x402Version", "paymentPayload", "paymentRequirements"}`, and `GET /supported` for the
/// per-scheme `extra` (e.g. the upto scheme's `facilitatorAddress`) clients need to sign.
///
/// It goes through the providers' HTTP client, so in the enclave it leaves through the egress
/// bridge and the host's allowlist like any provider call (the facilitator's host must be
/// listed), and in dev it is reached directly.
public final class FacilitatorClient: Sendable {
    public let baseURL: String
    private let http: UpstreamHTTPClient
    private let timeout: Duration
    /// `/supported`'s extras by "scheme network"; `validUntil` nil = for good (a failed fetch is retried later).
    private let supported = Mutex<(table: [String: JSONObject], validUntil: ContinuousClock.Instant?)?>(nil)

    public init(baseURL: String, http: UpstreamHTTPClient, timeout: Duration = .seconds(10)) {
        self.baseURL = baseURL
        self.http = http
        self.timeout = timeout
    }

    public struct Verification: Sendable, Equatable {
        public var isValid: Bool
        public var invalidReason: String?
        public var payer: String?
    }

    public func verify(_ payment: PaymentPayload, _ requirements: PaymentRequirements, resource: String) async throws(PaymentError) -> Verification {
        let answer = try await post("/verify", payment, requirements, resource: resource)
        guard let valid = answer["isValid"]?.boolValue else { throw .facilitatorUnavailable("/verify answered without 'isValid'") }
        return Verification(isValid: valid, invalidReason: answer["invalidReason"]?.stringValue, payer: answer["payer"]?.stringValue)
    }

    /// Settles `requirements.amount`. A facilitator that answers `success: false` is a
    /// `.settlementFailed` with its reason; one that cannot be reached is `.facilitatorUnavailable`.
    public func settle(_ payment: PaymentPayload, _ requirements: PaymentRequirements, resource: String) async throws(PaymentError) -> SettlementReceipt {
        let answer = try await post("/settle", payment, requirements, resource: resource)
        guard let success = answer["success"]?.boolValue else { throw .facilitatorUnavailable("/settle answered without 'success'") }
        let reason = answer["errorReason"]?.stringValue ?? answer["error"]?.stringValue
        guard success else { throw .settlementFailed(reason ?? "the facilitator gave no reason") }
        return SettlementReceipt(
            success: true, transaction: answer["transaction"]?.stringValue ?? "", network: answer["network"]?.stringValue ?? requirements.network,
            payer: answer["payer"]?.stringValue, amount: requirements.amount, errorReason: nil)
    }

    /// The facilitator's `extra` for (scheme, network), from `GET /supported`, fetched once; an
    /// empty object when it has none. When the facilitator cannot be reached, the challenge goes
    /// out with only the token's domain (all the exact scheme needs) and `/supported` is asked
    /// again after 30 s, so a facilitator outage does not slow every 402 down.
    public func extra(scheme: PaymentConfiguration.Scheme, network: String) async -> JSONObject {
        let now = ContinuousClock.now
        if let cached = supported.withLock({ $0 }), cached.validUntil.map({ now < $0 }) ?? true {
            return cached.table["\(scheme.rawValue) \(network)"] ?? JSONObject()
        }
        var table: [String: JSONObject] = [:]
        if let (status, body) = try? await http.exchangeJSON(url: baseURL + "/supported", body: nil, timeout: timeout), status == 200,
            let kinds = (try? JSONParser().parse(body))?["kinds"]?.arrayValue
        {
            for kind in kinds {
                guard let scheme = kind["scheme"]?.stringValue, let network = kind["network"]?.stringValue else { continue }
                table["\(scheme) \(network)"] = kind["extra"]?.objectValue ?? JSONObject()
            }
            supported.withLock { $0 = (table, nil) }
        } else {
            supported.withLock { $0 = (table, now + .seconds(30)) }
        }
        return table["\(scheme.rawValue) \(network)"] ?? JSONObject()
    }

    private func post(_ path: String, _ payment: PaymentPayload, _ requirements: PaymentRequirements, resource: String) async throws(PaymentError) -> JSONValue {
        let body: JSONValue = [
            "x402Version": .number(JSONNumber(payment.version)), "paymentPayload": payment.raw,
            "paymentRequirements": requirements.json(resource: resource),
        ]
        let status: Int
        let bytes: [UInt8]
        do {
            (status, bytes) = try await http.exchangeJSON(url: baseURL + path, body: JSONWriter.serialize(body, style: .compact), timeout: timeout)
        } catch .timeout {
            throw .facilitatorUnavailable("\(path) timed out after \(timeout)")
        } catch {
            throw .facilitatorUnavailable("\(path): \(error)")
        }
        let answer = try? JSONParser().parse(bytes)
        // Facilitators answer a refused payment with 200 or 400 and a JSON verdict; anything
        // else (5xx, HTML) means it could not decide.
        guard status == 200 || status == 400, let answer, answer.objectValue != nil else {
            throw .facilitatorUnavailable("\(path) answered HTTP \(status)")
        }
        return answer
    }
}
