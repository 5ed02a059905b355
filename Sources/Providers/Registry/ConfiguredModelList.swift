import GatewayCore

/// Why a `--models` file was refused; names the entry and the field.
public struct ConfiguredModelListError: Error, Equatable, CustomStringConvertible {
    public let description: String
}

extension ConfiguredModel {
    /// Parses the worker's `--models` file: a JSON array of OpenAI-compatible models, e.g.
    ///
    /// ```json
    /// [{"id": "my-llama", "provider": "vllm", "base_url": "https://llm.internal/v1",
    ///   "api_name": "meta-llama/Llama-3.1-8B-Instruct", "key_name": "vllm_api_key"}]
    /// ```
    ///
    /// `api_name` defaults to `id`; without `key_name` no `Authorization` header is sent. The key
    /// itself is injected into key-service under `key_name` like any provider key. Unknown fields
    /// are refused so a typo (`baseurl`) cannot silently route elsewhere.
    public static func list(parsing bytes: [UInt8]) throws(ConfiguredModelListError) -> [ConfiguredModel] {
        let value: JSONValue
        do {
            value = try JSONParser().parse(bytes)
        } catch {
            throw ConfiguredModelListError(description: "models file: \(error)")
        }
        guard let entries = value.arrayValue else {
            throw ConfiguredModelListError(description: "models file: expected a JSON array of models, got \(value.typeName)")
        }
        return try entries.enumerated().map { index, entry throws(ConfiguredModelListError) in
            try model(entry, at: index)
        }
    }

    private static let fields: Set<String> = ["id", "provider", "base_url", "api_name", "key_name"]

    private static func model(_ entry: JSONValue, at index: Int) throws(ConfiguredModelListError) -> ConfiguredModel {
        let place = "models file: entry \(index)"
        guard let object = entry.objectValue else {
            throw ConfiguredModelListError(description: "\(place) must be an object, not \(entry.typeName)")
        }
        if let unknown = object.keys.first(where: { !fields.contains($0) }) {
            throw ConfiguredModelListError(
                description: "\(place): unknown field '\(unknown)'; fields are \(fields.sorted().joined(separator: ", "))")
        }
        func string(_ name: String, required: Bool) throws(ConfiguredModelListError) -> String? {
            guard let member = object[name], !member.isNull else {
                if required { throw ConfiguredModelListError(description: "\(place): '\(name)' is required") }
                return nil
            }
            guard let text = member.stringValue, !text.isEmpty else {
                throw ConfiguredModelListError(description: "\(place): '\(name)' must be a non-empty string")
            }
            return text
        }
        let id = try string("id", required: true) ?? ""
        let baseURL = try string("base_url", required: true) ?? ""
        guard baseURL.hasPrefix("https://") || baseURL.hasPrefix("http://") else {
            throw ConfiguredModelListError(description: "\(place): 'base_url' must start with https:// or http://")
        }
        return ConfiguredModel(
            id: id,
            apiName: try string("api_name", required: false) ?? id,
            providerName: try string("provider", required: true) ?? "",
            baseURL: baseURL,
            keyName: try string("key_name", required: false)
        )
    }
}
