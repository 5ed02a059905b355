/// `tee_cost`: what a paid answer was charged, signed together with the answer.
///
/// A client must be able to prove what it paid for which request and output, so the cost is
/// not a loose response field: its canonical JSON (`json.dumps(obj, sort_keys=True)`) is hashed
/// with keccak and folded into the output hash the enclave key signs:
///
///     tee_output_hash = keccak(answer_hash ‖ keccak(canonical_json(tee_cost)))   (64 bytes in)
///
/// where `answer_hash` is the unpaid output hash (text or tool calls, `OutputHash`). Unpaid
/// answers carry no `tee_cost` and keep `tee_output_hash = answer_hash`, byte for byte as before.
/// docs/wire-contracts.md has the layout and a vector.
public struct TEECost: Sendable, Equatable {
    /// The charge in the asset's smallest unit, as a decimal string (it can exceed 2^64).
    public var amount: String
    /// The token contract, `0x…`, as configured.
    public var asset: String
    /// CAIP-2 network, e.g. `eip155:8453`.
    public var network: String
    public var inputTokens: Int
    public var outputTokens: Int
    /// Identifies the price table the amount was computed with (see docs/payments.md).
    public var priceVersion: String

    public init(amount: String, asset: String, network: String, inputTokens: Int, outputTokens: Int, priceVersion: String) {
        self.amount = amount
        self.asset = asset
        self.network = network
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.priceVersion = priceVersion
    }

    public var json: JSONValue {
        [
            "amount": .string(amount), "asset": .string(asset), "network": .string(network),
            "input_tokens": .number(JSONNumber(inputTokens)), "output_tokens": .number(JSONNumber(outputTokens)),
            "price_version": .string(priceVersion),
        ]
    }

    /// keccak of the canonical JSON.
    public var hash: Keccak256Digest { Keccak256.hash(JSONWriter.serialize(json, style: .canonical)) }

    /// The output hash a paid answer is signed under.
    public func bind(answerHash: Keccak256Digest) -> Keccak256Digest { Keccak256.hash(answerHash.bytes + hash.bytes) }

    /// Reads `tee_cost` back from a response, naming the first missing or malformed field.
    public init(json value: JSONValue) throws(InvalidRequest) {
        guard let object = value.objectValue else { throw InvalidRequest("'tee_cost' must be an object", param: "tee_cost") }
        func string(_ name: String) throws(InvalidRequest) -> String {
            guard let text = object[name]?.stringValue else { throw InvalidRequest("'tee_cost.\(name)' must be a string", param: "tee_cost") }
            return text
        }
        func count(_ name: String) throws(InvalidRequest) -> Int {
            guard let number = object[name]?.numberValue?.intValue, number >= 0 else {
                throw InvalidRequest("'tee_cost.\(name)' must be a non-negative integer", param: "tee_cost")
            }
            return number
        }
        let known: Set = ["amount", "asset", "network", "input_tokens", "output_tokens", "price_version"]
        if let unknown = object.keys.first(where: { !known.contains($0) }) {
            throw InvalidRequest("'tee_cost' has an unknown field '\(unknown)'", param: "tee_cost")
        }
        let amount = try string("amount")
        guard !amount.isEmpty, amount.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else {
            throw InvalidRequest("'tee_cost.amount' must be a decimal integer string", param: "tee_cost")
        }
        self.init(
            amount: amount, asset: try string("asset"), network: try string("network"),
            inputTokens: try count("input_tokens"), outputTokens: try count("output_tokens"),
            priceVersion: try string("price_version"))
    }
}
