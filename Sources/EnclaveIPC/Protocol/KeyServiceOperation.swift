/// The operations of the key-service protocol. The raw value is the message `type` on the wire,
/// in requests and in their success responses alike.
public enum KeyServiceOperation: String, CaseIterable, Hashable, Sendable, CustomStringConvertible {
    case publicKey
    case signInference
    case signRecord
    case attest
    case ohttpConfigs
    case ohttpOpen
    case providerSecrets
    case injectSecrets
    case registerTLSCertificate
    case health
    case ready

    public var description: String { rawValue }
}
