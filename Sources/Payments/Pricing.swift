import GatewayCore

/// One model's prices in the asset's smallest unit per million tokens.
public struct ModelPrice: Sendable, Equatable {
    public var inputPerMillion: Amount
    public var outputPerMillion: Amount

    public init(inputPerMillion: Amount, outputPerMillion: Amount) {
        self.inputPerMillion = inputPerMillion
        self.outputPerMillion = outputPerMillion
    }

    init(parsing value: JSONValue, model: String) throws(PaymentConfigurationError) {
        guard let object = value.objectValue else { throw .init("price of \(model) must be an object") }
        if let unknown = object.keys.first(where: { $0 != "input_per_million" && $0 != "output_per_million" }) {
            throw .init("price of \(model) has an unknown key '\(unknown)' (input_per_million, output_per_million)")
        }
        func field(_ key: String) throws(PaymentConfigurationError) -> Amount {
            guard let entry = object[key] else { throw .init("price of \(model) has no '\(key)'") }
            guard let amount = PaymentConfiguration.amount(entry) else {
                throw .init("price of \(model): '\(key)' must be a non-negative integer (smallest units per million tokens)")
            }
            return amount
        }
        inputPerMillion = try field("input_per_million")
        outputPerMillion = try field("output_per_million")
    }

    /// `⌈(input × input_per_million + output × output_per_million) / 1 000 000⌉`, exact.
    public func cost(inputTokens: Int, outputTokens: Int) throws(AmountOverflow) -> Amount {
        let input = try inputPerMillion.multiplied(by: UInt128(max(0, inputTokens)))
        let output = try outputPerMillion.multiplied(by: UInt128(max(0, outputTokens)))
        return try input.adding(output).dividedRoundingUp(by: 1_000_000)
    }
}

/// Token counts the gateway estimates itself, on both sides of a paid call. Both are documented
/// in docs/payments.md, and both err towards the gateway never serving for free.
public enum TokenCount {
    /// Before the call: an upper bound for the prompt. Every tokenizer the providers use
    /// (byte-level BPE, SentencePiece with byte fallback) spends at least one byte of UTF-8 per
    /// token, and the request body also carries the JSON syntax around the prompt, which is
    /// more than the chat template adds. So the body's byte count bounds the prompt's tokens.
    public static func inputUpperBound(bodyBytes: Int) -> Int { max(1, bodyBytes) }

    /// After the call, when the provider reported no usage: UTF-8 bytes / 4, rounded up, at
    /// least 1 (the usual "4 characters per token" estimate; never zero).
    public static func estimate(utf8Bytes: Int) -> Int { max(1, (utf8Bytes + 3) / 4) }

    /// Output tokens assumed for a request that sets no `max_tokens`/`max_completion_tokens`;
    /// the worker also sends this limit to the provider so the estimate holds.
    public static let defaultOutputCap = 4096
}

/// What one request may cost at most, known before the provider is called.
public struct CostQuote: Sendable, Equatable {
    public var model: String
    public var price: ModelPrice
    public var inputTokens: Int
    public var outputTokens: Int
    public var maximum: Amount

    public init(model: String, price: ModelPrice, bodyBytes: Int, maxOutputTokens: Int?) throws(AmountOverflow) {
        self.model = model
        self.price = price
        inputTokens = TokenCount.inputUpperBound(bodyBytes: bodyBytes)
        outputTokens = maxOutputTokens ?? TokenCount.defaultOutputCap
        maximum = try price.cost(inputTokens: inputTokens, outputTokens: outputTokens)
    }
}
