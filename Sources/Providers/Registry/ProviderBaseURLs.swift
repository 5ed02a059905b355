/// Where each built-in provider's API lives. Production values by default; dev mode and tests
/// point them at loopback mock servers.
public struct ProviderBaseURLs: Sendable, Hashable {
    public var openAI = "https://api.openai.com/v1"
    public var anthropic = "https://api.anthropic.com/v1"
    public var google = "https://generativelanguage.googleapis.com/v1beta"
    public var xAI = "https://api.x.ai/v1"
    public var byteDance = "https://ark.ap-southeast.bytepluses.com/api/v3"

    public init() {}

    public static let production = ProviderBaseURLs()

    func url(for provider: ProviderKind) -> String {
        switch provider {
        case .openAI: openAI
        case .anthropic: anthropic
        case .google: google
        case .xAI: xAI
        case .byteDance: byteDance
        case .openAICompatible, .local: ""
        }
    }
}
