import Foundation

/// The body of `GET /v1/ohttp/config`: upstream's flat fields for the X25519 configuration
/// (so existing upstream clients keep working) plus `configs`, every signed configuration in
/// preference order.
public struct OHTTPConfigDocument: Hashable, Sendable, Codable {
    /// The X25519 configuration, flattened into the top level.
    public let upstream: SignedOHTTPConfig
    public let configs: [SignedOHTTPConfig]

    public init(configs: [SignedOHTTPConfig]) throws(OHTTPConfigError) {
        guard let upstream = configs.first(where: { $0.config.kem == .x25519HKDFSHA256 }) else {
            throw .missingX25519Config
        }
        self.upstream = upstream
        self.configs = configs
    }

    private enum CodingKeys: String, CodingKey {
        case configs
    }

    public func encode(to encoder: any Encoder) throws {
        try upstream.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(configs, forKey: .configs)
    }

    /// Also checks that the flat fields are the X25519 entry of `configs`, so the two views a
    /// client might read cannot disagree.
    public init(from decoder: any Decoder) throws {
        let flat = try SignedOHTTPConfig(from: decoder)
        let configs = try decoder.container(keyedBy: CodingKeys.self).decode([SignedOHTTPConfig].self, forKey: .configs)
        do {
            self = try OHTTPConfigDocument(configs: configs)
        } catch {
            throw DecodingError.dataCorrupted(
                DecodingError.Context(
                    codingPath: decoder.codingPath, debugDescription: error.description, underlyingError: error))
        }
        guard upstream == flat else {
            throw DecodingError.dataCorrupted(
                DecodingError.Context(
                    codingPath: decoder.codingPath,
                    debugDescription: OHTTPConfigError.fieldMismatch(
                        "top-level fields (vs. the X25519 entry of configs)"
                    ).description))
        }
    }
}
