/// The only things `signRecord` signs besides inference results: fixed, typed layouts whose
/// preimage the key service builds itself (ARCHITECTURE §8 and the upstream heartbeat), so no
/// caller can obtain a signature over bytes of its choosing.
public enum SignableRecord: Hashable, Sendable {
    /// An OHTTP key config for `GET /v1/ohttp/config`. The key service must refuse a config
    /// that is not one of its own (it holds the private keys, so it can compare).
    case ohttpConfig(OHTTPKeyConfig)
    /// A liveness heartbeat `keccak(tee_id ‖ u256 timestamp)`. The key service must refuse a
    /// timestamp ahead of its own clock, so a heartbeat cannot be signed in advance.
    case heartbeat(timestamp: UInt64)

    /// The wire name of the layout (the `domain` field of a `signRecord` request).
    public var domain: String {
        switch self {
        case .ohttpConfig: "ohttpConfig"
        case .heartbeat: "heartbeat"
        }
    }

    static let fields: [String: Set<String>] = [
        "ohttpConfig": OHTTPKeyConfig.fields,
        "heartbeat": ["timestamp"],
    ]

    init(domain: String, from reader: WireReader) throws(KeyServiceProtocolError) {
        switch domain {
        case "ohttpConfig":
            self = .ohttpConfig(try OHTTPKeyConfig(from: reader))
        case "heartbeat":
            self = .heartbeat(timestamp: try reader.integer("timestamp"))
        default:
            throw KeyServiceProtocolError(.invalidValue(field: "domain", reason: "unknown record domain '\(domain)'"))
        }
    }

    func write(to writer: inout WireWriter) throws {
        try writer.write(domain, "domain")
        switch self {
        case .ohttpConfig(let config):
            try config.write(to: &writer)
        case .heartbeat(let timestamp):
            try writer.write(timestamp, "timestamp")
        }
    }
}
