import Foundation
import GatewayCore
import Testing

@testable import Payments

@Suite struct ConfigurationTests {
    nonisolated(unsafe) static let valid: [String: Any] = [
        "pay_to": "0x209693Bc6afc0C5328bA36FaF03C514EF312287C", "network": "eip155:8453",
        "asset": "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913", "asset_decimals": 6, "asset_name": "USD Coin", "asset_version": "2",
        "facilitator_url": "http://127.0.0.1:9/", "session_cap": "1000000", "session_idle_seconds": 30,
        "prices": ["GPT-4.1 ": ["input_per_million": 2_000_000, "output_per_million": "8000000"]],
    ]

    static func parse(_ object: [String: Any]) throws(PaymentConfigurationError) -> PaymentConfiguration {
        let data = try! JSONSerialization.data(withJSONObject: object)
        return try PaymentConfiguration(parsing: Array(data))
    }

    @Test func acceptsTheDocumentedShape() throws {
        let configuration = try Self.parse(Self.valid)
        #expect(configuration.schemes == [.exact, .upto])
        #expect(configuration.facilitatorURL == "http://127.0.0.1:9")
        #expect(configuration.price(for: "gpt-4.1")?.outputPerMillion == Amount(8_000_000))
        #expect(configuration.sessionCap == Amount(1_000_000))
        #expect(configuration.priceVersion.hasPrefix("p") && configuration.priceVersion.count == 17)
        try configuration.checkCoverage(of: ["gpt-4.1"])
        #expect(throws: PaymentConfigurationError.self) { try configuration.checkCoverage(of: ["gpt-4.1", "o4-mini"]) }
    }

    @Test func priceVersionChangesWithAnyPrice() throws {
        var other = Self.valid
        other["prices"] = ["gpt-4.1": ["input_per_million": 2_000_001, "output_per_million": 8_000_000]]
        #expect(try Self.parse(other).priceVersion != Self.parse(Self.valid).priceVersion)
    }

    nonisolated(unsafe) static let refusals: [(String, (inout [String: Any]) -> Void, String)] = [
        ("unknown key", { $0["pay_too"] = "x" }, "unknown key 'pay_too'"),
        ("short address", { $0["pay_to"] = "0x1234" }, "'pay_to'"),
        ("non-hex address", { $0["asset"] = "0x" + String(repeating: "g", count: 40) }, "'asset'"),
        ("bad CAIP-2", { $0["network"] = "base" }, "CAIP-2"),
        ("bad CAIP-2 namespace", { $0["network"] = "EIP155:8453" }, "CAIP-2"),
        ("model without a price", { $0["prices"] = ["gpt-4.1": ["input_per_million": 1]] }, "no 'output_per_million'"),
        ("negative price", { $0["prices"] = ["gpt-4.1": ["input_per_million": -1, "output_per_million": 1]] }, "non-negative"),
        ("float price", { $0["prices"] = ["gpt-4.1": ["input_per_million": 1.5, "output_per_million": 1]] }, "non-negative integer"),
        ("empty prices", { $0["prices"] = [String: Any]() }, "empty"),
        ("unknown scheme", { $0["schemes"] = ["exact", "stream"] }, "schemes"),
        ("upto without cap", { $0.removeValue(forKey: "session_cap") }, "session_cap"),
        ("zero idle", { $0["session_idle_seconds"] = 0 }, "session_idle_seconds"),
        ("facilitator not http", { $0["facilitator_url"] = "ftp://x" }, "facilitator_url"),
        ("decimals out of range", { $0["asset_decimals"] = 99 }, "asset_decimals"),
        ("missing asset_name", { $0.removeValue(forKey: "asset_name") }, "'asset_name' is missing"),
    ]

    @Test(arguments: 0..<refusals.count) func refusesWithTheReason(_ index: Int) {
        let (name, change, reason) = Self.refusals[index]
        var object = Self.valid
        change(&object)
        do {
            _ = try Self.parse(object)
            Issue.record("\(name): accepted")
        } catch {
            #expect(error.description.contains(reason), "\(name): \(error)")
        }
    }

    @Test func exactOnlyNeedsNoCap() throws {
        var object = Self.valid
        object["schemes"] = ["exact"]
        object.removeValue(forKey: "session_cap")
        #expect(try Self.parse(object).schemes == [.exact])
        #expect(throws: PaymentConfigurationError.self) { try PaymentConfiguration(parsing: Array("[1]".utf8)) }
        #expect(throws: PaymentConfigurationError.self) { try PaymentConfiguration(parsing: Array("{".utf8)) }
    }
}

@Suite struct WireTests {
    @Test func paymentRequiredCarriesTheConfiguration() throws {
        let configuration = try ConfigurationTests.parse(ConfigurationTests.valid)
        let requirements = PaymentRequirements(scheme: .exact, configuration: configuration, amount: Amount(42), extra: JSONObject([("feePayer", "x"), ("name", "ignored")]))
        let required = PaymentRequired(error: "payment required", resource: "https://h/v1/chat/completions", accepts: [requirements]).json
        let decoded = try X402.decodeHeader(X402.encodeHeader(required))
        #expect(decoded["x402Version"]?.numberValue?.intValue == 2)
        let accept = try #require(decoded["accepts"]?.arrayValue?.first)
        #expect(accept["amount"]?.stringValue == "42" && accept["maxAmountRequired"]?.stringValue == "42")
        #expect(accept["payTo"]?.stringValue == configuration.payTo)
        #expect(accept["extra"]?["name"]?.stringValue == "USD Coin")  // the token's domain wins over the facilitator's
        #expect(accept["extra"]?["feePayer"]?.stringValue == "x")
    }

    @Test func malformedPaymentsAreRefusedWithAReason() {
        for header in ["%%%", Data("[]".utf8).base64EncodedString(), Data(#"{"x402Version":3,"payload":{}}"#.utf8).base64EncodedString(),
                       Data(#"{"x402Version":2,"payload":{}}"#.utf8).base64EncodedString()] {
            #expect(throws: PaymentError.self) { try PaymentPayload(header: header) }
        }
    }

    @Test func v1PaymentIsAccepted() throws {
        let v1 = #"{"x402Version":1,"scheme":"exact","network":"eip155:8453","payload":{"authorization":{"value":"77"},"signature":"0x"}}"#
        let payment = try PaymentPayload(header: Data(v1.utf8).base64EncodedString())
        #expect(payment.version == 1 && payment.amount == Amount(77))
        let configuration = try ConfigurationTests.parse(ConfigurationTests.valid)
        #expect(try payment.requirements(for: configuration, extra: JSONObject()).amount == Amount(77))
        let other = #"{"x402Version":1,"scheme":"exact","network":"eip155:1","payload":{"authorization":{"value":"77"}}}"#
        #expect(throws: PaymentError.self) { try PaymentPayload(header: Data(other.utf8).base64EncodedString()).requirements(for: configuration, extra: JSONObject()) }
    }
}
