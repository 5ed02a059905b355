/// Injected provider API keys, by provider name (`openai`, `anthropic`, …).
///
/// `description` lists provider names only, so logging this value never leaks a key.
public struct ProviderSecrets: Hashable, Sendable, CustomStringConvertible {
    public let apiKeys: [String: String]

    public init(apiKeys: [String: String]) {
        self.apiKeys = apiKeys
    }

    public var description: String {
        "ProviderSecrets(providers: \(apiKeys.keys.sorted()), keys redacted)"
    }

    static let fields: Set<String> = ["apiKeys"]

    init(from reader: WireReader) throws(KeyServiceProtocolError) {
        let apiKeys = try reader.stringMap("apiKeys", maximumCount: Limits.providerCount)
        for (provider, key) in apiKeys {
            try ProviderName.validate(provider, field: "apiKeys")
            guard Limits.apiKeyBytes.contains(key.utf8.count) else {
                throw KeyServiceProtocolError(
                    .invalidLength(field: "apiKeys.\(provider)", expected: Limits.apiKeyBytes, actual: key.utf8.count)
                )
            }
        }
        self.init(apiKeys: apiKeys)
    }

    func write(to writer: inout WireWriter) throws {
        try writer.write(apiKeys, "apiKeys")
    }
}

/// The outcome of an accepted `injectSecrets`: which providers now have a key.
public struct InjectedSecrets: Hashable, Sendable {
    public let providers: [String]

    public init(providers: [String]) {
        self.providers = providers
    }

    static let fields: Set<String> = ["providers"]

    init(from reader: WireReader) throws(KeyServiceProtocolError) {
        self.init(providers: try ProviderName.list("providers", in: reader))
    }

    func write(to writer: inout WireWriter) throws {
        try writer.write(providers, "providers")
    }
}

/// Provider names are short lowercase identifiers; anything else is a malformed message.
enum ProviderName {
    static func validate(_ name: String, field: String) throws(KeyServiceProtocolError) {
        let valid = Limits.providerNameBytes.contains(name.utf8.count)
            && name.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D || $0 == 0x5F }
        guard valid else {
            throw KeyServiceProtocolError(
                .invalidValue(field: field, reason: "provider name must be 1-64 characters of a-z, 0-9, '-' or '_'")
            )
        }
    }

    static func list(_ field: String, in reader: WireReader) throws(KeyServiceProtocolError) -> [String] {
        let names = try reader.strings(field, maximumCount: Limits.providerCount, maximumBytes: Limits.providerNameBytes.upperBound)
        for name in names { try validate(name, field: field) }
        return names
    }
}
