/// Provider API keys are stored under the names `ModelRoute.keyName` uses
/// (`openai_api_key`, …), the same names an injection envelope's plaintext carries.
public enum ProviderSecretNames {
    /// Dev mode reads these environment variables (ARCHITECTURE §5.3) and only with `--dev`:
    /// outside dev, keys arrive solely through authenticated injection.
    public static let environmentVariables: [(variable: String, keyName: String)] = [
        ("OPENAI_API_KEY", "openai_api_key"),
        ("ANTHROPIC_API_KEY", "anthropic_api_key"),
        ("GOOGLE_API_KEY", "google_api_key"),
        ("XAI_API_KEY", "xai_api_key"),
        ("ARK_API_KEY", "bytedance_api_key"),
    ]

    /// The dev-mode secrets found in `environment`; empty values are ignored.
    public static func fromEnvironment(_ environment: [String: String]) -> [String: String] {
        var secrets: [String: String] = [:]
        for (variable, keyName) in environmentVariables {
            if let value = environment[variable], !value.isEmpty { secrets[keyName] = value }
        }
        return secrets
    }

    static let maximumCount = 32
    static let nameBytes = 1...64
    static let valueBytes = 1...4096

    /// The key-service protocol's rule for names (1-64 of `a-z 0-9 - _`), checked here so an
    /// accepted injection can always be served back through `providerSecrets`.
    static func isValidName(_ name: String) -> Bool {
        nameBytes.contains(name.utf8.count)
            && name.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D || $0 == 0x5F }
    }
}
