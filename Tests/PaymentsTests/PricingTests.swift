import GatewayCore
import Testing

@testable import Payments

/// Spec notes §9.2: upstream's pricing vectors (OPG at 1 USD, 18 decimals, rounded up), with
/// each model's USD price per million tokens written as smallest units per million.
@Suite struct PricingTests {
    /// USD per million tokens → 18-decimals units per million (× 10^18).
    static func price(_ input: String, _ output: String) -> ModelPrice {
        func units(_ usd: String) -> Amount {
            let parts = usd.split(separator: ".", omittingEmptySubsequences: false)
            let fraction = parts.count > 1 ? String(parts[1]) : ""
            return Amount(decimal: String(parts[0]) + fraction + String(repeating: "0", count: 18 - fraction.count))!
        }
        return ModelPrice(inputPerMillion: units(input), outputPerMillion: units(output))
    }

    static let vectors: [(String, ModelPrice, Int, Int, String)] = [
        ("gpt-4.1", price("2", "8"), 1000, 500, "6000000000000000"),
        ("gpt-5-mini", price("0.25", "2"), 1000, 500, "1250000000000000"),
        ("claude-sonnet-4-5", price("3", "15"), 1000, 500, "10500000000000000"),
        ("claude-haiku-4-5", price("1", "5"), 1000, 500, "3500000000000000"),
        ("claude-opus-4-5", price("5", "25"), 1000, 500, "17500000000000000"),
        ("gemini-2.5-flash", price("0.3", "2.5"), 1000, 500, "1550000000000000"),
        ("gemini-2.5-flash-lite", price("0.1", "0.4"), 1000, 500, "300000000000000"),
        ("grok-4-fast", price("0.2", "0.5"), 1000, 500, "450000000000000"),
        ("claude-haiku-4-5", price("1", "5"), 0, 1, "5000000000000"),
        ("gemini-2.5-flash-lite", price("0.1", "0.4"), 1, 0, "100000000000"),
        ("any", price("3", "15"), 0, 0, "0"),
    ]

    @Test(arguments: 0..<vectors.count) func specVector(_ index: Int) throws {
        let (model, price, input, output, expected) = Self.vectors[index]
        #expect(try price.cost(inputTokens: input, outputTokens: output).description == expected, "\(model)")
    }

    @Test func roundsUpNeverDown() throws {
        let price = ModelPrice(inputPerMillion: Amount(1), outputPerMillion: Amount(3))
        #expect(try price.cost(inputTokens: 1, outputTokens: 0) == Amount(1))  // 1/10^6 → 1
        #expect(try price.cost(inputTokens: 1_000_000, outputTokens: 0) == Amount(1))
        #expect(try price.cost(inputTokens: 1_000_001, outputTokens: 0) == Amount(2))
    }

    @Test func beyondUInt64IsExact() throws {
        // 150 tokens of an 18-decimals asset per million, ten million tokens: 1.5e21, past 2^64.
        let price = ModelPrice(inputPerMillion: Amount(decimal: "150000000000000000000")!, outputPerMillion: .zero)
        #expect(try price.cost(inputTokens: 10_000_000, outputTokens: 0).description == "1500000000000000000000")
    }

    @Test func overflowIsAnErrorNotAWrap() {
        let huge = Amount(UInt128.max / 2)
        #expect(throws: AmountOverflow.self) { try ModelPrice(inputPerMillion: huge, outputPerMillion: huge).cost(inputTokens: 3, outputTokens: 0) }
        #expect(Amount(decimal: "340282366920938463463374607431768211456") == nil)  // 2^128
        #expect(Amount(decimal: "-1") == nil)
        #expect(Amount(decimal: "1e3") == nil)
        #expect(Amount(decimal: "") == nil)
    }

    @Test func quoteUsesBodyBytesAndOutputCap() throws {
        let price = ModelPrice(inputPerMillion: Amount(1_000_000), outputPerMillion: Amount(2_000_000))
        let quote = try CostQuote(model: "m", price: price, bodyBytes: 100, maxOutputTokens: 10)
        #expect(quote.maximum == Amount(100 + 20))
        let uncapped = try CostQuote(model: "m", price: price, bodyBytes: 100, maxOutputTokens: nil)
        #expect(uncapped.outputTokens == TokenCount.defaultOutputCap)
        #expect(TokenCount.estimate(utf8Bytes: 0) == 1)
        #expect(TokenCount.estimate(utf8Bytes: 5) == 2)
    }

    @Test func requestFactsReadTheOutputLimit() {
        let chat = PaymentGate.RequestFacts(body: Array(#"{"model":"m","max_tokens":5,"max_completion_tokens":7}"#.utf8), legacyCompletions: false)
        #expect(chat.model == "m" && chat.maxOutputTokens == 7)
        let legacy = PaymentGate.RequestFacts(body: Array(#"{"model":"m","prompt":"x"}"#.utf8), legacyCompletions: true)
        #expect(legacy.maxOutputTokens == 16)
        let unlimited = PaymentGate.RequestFacts(body: Array(#"{"model":"m","prompt":"x","max_tokens":null}"#.utf8), legacyCompletions: true)
        #expect(unlimited.maxOutputTokens == nil)
        #expect(PaymentGate.RequestFacts(body: Array("not json".utf8), legacyCompletions: false).model == nil)
    }
}

/// `tee_cost` folded into the output hash: a fixed vector (docs/wire-contracts.md).
@Suite struct SignedCostTests {
    static let cost = TEECost(
        amount: "10500000000000000", asset: "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913", network: "eip155:8453",
        inputTokens: 1000, outputTokens: 500, priceVersion: "p0123456789abcdef")

    @Test func canonicalJSONAndBinding() throws {
        let canonical = JSONWriter.string(Self.cost.json, style: .canonical)
        #expect(canonical == #"{"amount": "10500000000000000", "asset": "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913", "input_tokens": 1000, "network": "eip155:8453", "output_tokens": 500, "price_version": "p0123456789abcdef"}"#)
        let answer = OutputHash.text("Hello!")
        let bound = Self.cost.bind(answerHash: answer)
        #expect(bound == Keccak256.hash(answer.bytes + Keccak256.hash(Array(canonical.utf8)).bytes))
        #expect(bound.hex == "\(SignedCostVector.boundHex)")
        var changed = Self.cost
        changed.amount = "10500000000000001"
        #expect(changed.bind(answerHash: answer) != bound)
    }

    @Test func unpaidSignaturesCarryNoCost() throws {
        let digest = Keccak256.hash(Array("x".utf8))
        let unpaid = TEESignature(requestHash: digest, outputHash: digest, timestamp: 1, signature: [1], teeID: TEEID(digest: digest))
        #expect(!unpaid.fields.contains { $0.0 == "tee_cost" })
        #expect(unpaid.expectedOutputHash(answerHash: digest) == digest)
        var paid = unpaid
        paid.cost = Self.cost
        let object = JSONValue.object(JSONObject(paid.fields))
        let read = try TEESignature(response: object)
        #expect(read.cost == Self.cost)
        #expect(read.expectedOutputHash(answerHash: digest) == Self.cost.bind(answerHash: digest))
    }

    @Test func malformedCostIsRefused() {
        for bad in [#"{"amount": "1.5"}"#, #"{"amount": "1", "asset": "a", "network": "n", "input_tokens": -1, "output_tokens": 0, "price_version": "p"}"#,
                    #"{"amount": "1", "asset": "a", "network": "n", "input_tokens": 1, "output_tokens": 0, "price_version": "p", "extra": 1}"#] {
            #expect(throws: InvalidRequest.self) { try TEECost(json: try JSONParser().parse(Array(bad.utf8))) }
        }
    }
}

enum SignedCostVector {
    /// keccak(keccak("Hello!") ‖ keccak(canonical tee_cost above)); recomputed by
    /// Tests/PaymentsTests/signed_cost_vector.py with pycryptodome's keccak.
    static let boundHex = "ad8510df2df0e7554999a3372a01f56b9679c4fe3c458f7266d75049d0ae7c87"
}
