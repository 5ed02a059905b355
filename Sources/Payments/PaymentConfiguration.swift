import GatewayCore

/// `supervisor --x402 FILE`: what payments cost and where they go. Part of the measured
/// enclave configuration, so it is parsed strictly: an unknown key, a missing price, a malformed
/// address or network refuses the start with the reason (a typo must never make a model free).
///
/// ```json
/// {"pay_to": "0x…40 hex…", "network": "eip155:8453", "asset": "0x…40 hex…",
///  "asset_decimals": 6, "asset_name": "USD Coin", "asset_version": "2",
///  "facilitator_url": "https://facilitator.example", "schemes": ["exact", "upto"],
///  "session_cap": "1000000", "session_idle_seconds": 300,
///  "prices": {"gpt-4.1": {"input_per_million": 2000000, "output_per_million": 8000000}}}
/// ```
public struct PaymentConfiguration: Sendable, Equatable {
    public enum Scheme: String, Sendable, CaseIterable {
        /// One payment per request for the quoted maximum of that request.
        case exact
        /// One authorization for up to `session_cap`, charged per request by usage, settled once.
        case upto
    }

    public var payTo: String
    public var network: String
    public var asset: String
    public var assetDecimals: Int
    public var assetName: String
    public var assetVersion: String
    public var facilitatorURL: String
    public var schemes: [Scheme]
    public var sessionCap: Amount
    public var sessionIdleSeconds: Int
    /// Keyed by model id as the registry normalizes it (trimmed, lowercased).
    public var prices: [String: ModelPrice]

    public static let defaultSessionIdleSeconds = 300

    /// Names the price table: `p` + the first 16 hex digits of keccak over the canonical JSON of
    /// network, asset, decimals and every price. Any price change is a new version.
    public var priceVersion: String {
        let table: [(String, JSONValue)] = prices.keys.sorted().map { id in
            (id, ["input_per_million": .string(prices[id]!.inputPerMillion.description),
                  "output_per_million": .string(prices[id]!.outputPerMillion.description)])
        }
        let document: JSONValue = [
            "network": .string(network), "asset": .string(asset), "asset_decimals": .number(JSONNumber(assetDecimals)),
            "prices": .object(JSONObject(table)),
        ]
        return "p" + String(Keccak256.hash(JSONWriter.serialize(document, style: .canonical)).hex.prefix(16))
    }

    public func price(for model: String) -> ModelPrice? { prices[ModelID.normalize(model)] }

    static let knownKeys: Set = [
        "pay_to", "network", "asset", "asset_decimals", "asset_name", "asset_version", "facilitator_url", "schemes",
        "session_cap", "session_idle_seconds", "prices",
    ]

    public init(parsing bytes: [UInt8]) throws(PaymentConfigurationError) {
        let value: JSONValue
        do { value = try JSONParser().parse(bytes) } catch { throw .init("not valid JSON: \(error)") }
        guard let object = value.objectValue else { throw .init("must be a JSON object, not \(value.typeName)") }
        if let unknown = object.keys.first(where: { !Self.knownKeys.contains($0) }) {
            throw .init("unknown key '\(unknown)' (known: \(Self.knownKeys.sorted().joined(separator: ", ")))")
        }
        func string(_ key: String) throws(PaymentConfigurationError) -> String {
            guard let field = object[key] else { throw .init("'\(key)' is missing") }
            guard let text = field.stringValue else { throw .init("'\(key)' must be a string, not \(field.typeName)") }
            return text
        }
        payTo = try Self.address(try string("pay_to"), key: "pay_to")
        asset = try Self.address(try string("asset"), key: "asset")
        network = try string("network")
        guard Self.isCAIP2(network) else {
            throw .init("'network' \(network) is not a CAIP-2 chain id (namespace:reference, e.g. eip155:8453)")
        }
        guard let decimals = object["asset_decimals"]?.numberValue?.intValue, (0...38).contains(decimals) else {
            throw .init("'asset_decimals' must be an integer 0-38")
        }
        assetDecimals = decimals
        assetName = try string("asset_name")
        guard !assetName.isEmpty else { throw .init("'asset_name' must not be empty (it is the token's EIP-712 domain name)") }
        assetVersion = try string("asset_version")
        guard !assetVersion.isEmpty else { throw .init("'asset_version' must not be empty (it is the token's EIP-712 domain version)") }
        facilitatorURL = try string("facilitator_url")
        while facilitatorURL.hasSuffix("/") { facilitatorURL.removeLast() }
        guard facilitatorURL.hasPrefix("https://") || facilitatorURL.hasPrefix("http://"), facilitatorURL.count > 8 else {
            throw .init("'facilitator_url' must be an http(s) URL")
        }
        if let list = object["schemes"] {
            guard let items = list.arrayValue, !items.isEmpty else { throw .init("'schemes' must be a non-empty array of \"exact\", \"upto\"") }
            var schemes: [Scheme] = []
            for item in items {
                guard let name = item.stringValue, let scheme = Scheme(rawValue: name) else {
                    throw .init("'schemes' has \(JSONWriter.string(item, style: .compact)); schemes are \"exact\" and \"upto\"")
                }
                guard !schemes.contains(scheme) else { throw .init("'schemes' names \(name) twice") }
                schemes.append(scheme)
            }
            self.schemes = schemes
        } else {
            schemes = Scheme.allCases
        }
        if let cap = object["session_cap"] {
            guard let amount = Self.amount(cap), amount > .zero else { throw .init("'session_cap' must be a positive integer (smallest units)") }
            sessionCap = amount
        } else if schemes.contains(.upto) {
            throw .init("'session_cap' is missing: the upto scheme needs a cap per session")
        } else {
            sessionCap = .zero
        }
        if let idle = object["session_idle_seconds"] {
            guard let seconds = idle.numberValue?.intValue, (1...86_400).contains(seconds) else {
                throw .init("'session_idle_seconds' must be an integer 1-86400")
            }
            sessionIdleSeconds = seconds
        } else {
            sessionIdleSeconds = Self.defaultSessionIdleSeconds
        }
        guard let table = object["prices"]?.objectValue else { throw .init("'prices' is missing or not an object of model id → price") }
        guard !table.isEmpty else { throw .init("'prices' is empty: every served model needs a price") }
        var prices: [String: ModelPrice] = [:]
        for (model, entry) in table {
            let id = ModelID.normalize(model)
            guard !id.isEmpty else { throw .init("'prices' has an empty model id") }
            guard prices[id] == nil else { throw .init("'prices' names \(id) twice") }
            prices[id] = try ModelPrice(parsing: entry, model: model)
        }
        self.prices = prices
    }

    /// Every model the worker serves must have a price: a model without one would be served free.
    public func checkCoverage(of modelIDs: [String]) throws(PaymentConfigurationError) {
        let missing = modelIDs.filter { prices[ModelID.normalize($0)] == nil }
        guard missing.isEmpty else {
            throw .init("no price for \(missing.count) served model(s): \(missing.prefix(10).joined(separator: ", "))\(missing.count > 10 ? ", …" : "")")
        }
    }

    static func amount(_ value: JSONValue) -> Amount? {
        if let text = value.stringValue { return Amount(decimal: text) }
        if let number = value.numberValue, number.isInteger { return Amount(decimal: number.description) }
        return nil
    }

    /// `0x` and 40 hex digits; returned as written (checksummed case is kept for display).
    static func address(_ text: String, key: String) throws(PaymentConfigurationError) -> String {
        let digits = text.utf8.dropFirst(2)
        guard text.hasPrefix("0x"), digits.count == 40, digits.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) || (0x41...0x46).contains($0) }) else {
            throw .init("'\(key)' \(text) is not an address (0x and 40 hex digits)")
        }
        return text
    }

    /// CAIP-2: `[-a-z0-9]{3,8}:[-_a-zA-Z0-9]{1,32}`.
    static func isCAIP2(_ text: String) -> Bool {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2 else { return false }
        let namespace = parts[0].utf8, reference = parts[1].utf8
        return (3...8).contains(namespace.count) && namespace.allSatisfy { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x2D }
            && (1...32).contains(reference.count)
            && reference.allSatisfy {
                (0x61...0x7A).contains($0) || (0x41...0x5A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x2D || $0 == 0x5F
            }
    }
}

/// Why a payment configuration was refused; the message names the key.
public struct PaymentConfigurationError: Error, Equatable, CustomStringConvertible {
    public let reason: String
    init(_ reason: String) { self.reason = reason }
    public var description: String { "x402 configuration: \(reason)" }
}
