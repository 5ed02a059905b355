/// Why tls-front could not start or serve.
public enum TLSFrontError: Error, Hashable, Sendable, CustomStringConvertible {
    case invalidConfiguration(String)
    /// The key service did not accept the TLS certificate hash; serving without that binding
    /// would make every attestation document useless to clients, so tls-front does not listen.
    case certificateRegistrationFailed(String)

    public var description: String {
        switch self {
        case .invalidConfiguration(let reason): return "tls-front configuration: \(reason)"
        case .certificateRegistrationFailed(let reason):
            return "tls-front could not register its TLS certificate with the key service: \(reason)"
        }
    }
}
