import EnclaveIPC
import Foundation

/// Everything one host-proxy process runs. Each part is optional: `host-proxy ingress` fills
/// only `ingress`, `host-proxy run --config FILE` whatever the file names.
public struct HostProxyConfiguration: Sendable {
    public var ingress: ForwardingConfiguration?
    public var egress: EgressConfiguration?
    public var bridge: ForwardingConfiguration?
    /// Where `/metrics` is served; nil serves no metrics.
    public var metrics: Endpoint?
    /// The supervisor's host control listener (`vsock://16:9000`): `/metrics` then also carries
    /// the enclave's metrics, fetched with its `metrics` command on every scrape.
    public var enclaveMetrics: Endpoint?

    public init(
        ingress: ForwardingConfiguration? = nil,
        egress: EgressConfiguration? = nil,
        bridge: ForwardingConfiguration? = nil,
        metrics: Endpoint? = nil,
        enclaveMetrics: Endpoint? = nil
    ) {
        self.ingress = ingress
        self.egress = egress
        self.bridge = bridge
        self.metrics = metrics
        self.enclaveMetrics = enclaveMetrics
    }

    /// Reads a JSON configuration file (see `ConfigurationFile` for the keys) and the allowlist
    /// it names. Unknown keys are errors, so a misspelt option cannot be silently ignored.
    public static func load(path: String) throws(ConfigurationError) -> HostProxyConfiguration {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw .unreadable(path: path, reason: error.localizedDescription)
        }
        guard data.count <= 1 << 20 else { throw .unreadable(path: path, reason: "larger than 1 MiB") }
        let file: ConfigurationFile
        do {
            file = try JSONDecoder().decode(ConfigurationFile.self, from: data)
        } catch let error as DecodingError {
            throw .invalid(path: path, reason: Self.explain(error))
        } catch {
            throw .invalid(path: path, reason: "\(error)")
        }
        return try file.configuration(relativeTo: path)
    }

    private static func explain(_ error: DecodingError) -> String {
        func at(_ path: [any CodingKey]) -> String {
            path.isEmpty ? "top level" : path.map(\.stringValue).joined(separator: ".")
        }
        switch error {
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            return "\(at(context.codingPath)): \(context.debugDescription)"
        case .keyNotFound(let key, let context):
            return "\(at(context.codingPath)): missing required key '\(key.stringValue)'"
        @unknown default:
            return "\(error)"
        }
    }
}

public enum ConfigurationError: Error, Hashable, Sendable, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    case invalid(path: String, reason: String)
    case allowlist(AllowlistError)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason): return "cannot read configuration \(path): \(reason)"
        case .invalid(let path, let reason): return "configuration \(path) is invalid: \(reason)"
        case .allowlist(let error): return error.description
        }
    }
}

/// The JSON configuration file of `host-proxy run --config FILE`. Durations are in seconds;
/// endpoints take every form (`tcp://`, `unix://`, `vsock://`):
///
///     {
///       "ingress": { "listen": "tcp://0.0.0.0:443", "enclave": "vsock://16:443",
///                    "maxConnections": 1024, "idleTimeoutSeconds": 300 },
///       "egress":  { "listen": "vsock://3:8001", "allowlist": "/etc/host-proxy/allowlist",
///                    "allowLoopback": false, "allowPrivate": false },
///       "metrics": "tcp://127.0.0.1:9101",
///       "enclaveMetrics": "vsock://16:9000"
///     }
///
/// `bridge` (`listen`, `upstream`) exists for running the enclave-side bridge from a file too.
/// A relative `allowlist` path is resolved against the configuration file's directory.
struct ConfigurationFile: Decodable {
    struct Ingress: Decodable {
        var listen: Endpoint
        var enclave: Endpoint
        var maxConnections: Int?
        var idleTimeoutSeconds: Int?
        var connectTimeoutSeconds: Int?

        init(from decoder: any Decoder) throws {
            try rejectUnknownKeys(decoder, known: CodingKeys.self)
            let container = try decoder.container(keyedBy: CodingKeys.self)
            listen = try container.decode(Endpoint.self, forKey: .listen)
            enclave = try container.decode(Endpoint.self, forKey: .enclave)
            maxConnections = try container.decodeIfPresent(Int.self, forKey: .maxConnections)
            idleTimeoutSeconds = try container.decodeIfPresent(Int.self, forKey: .idleTimeoutSeconds)
            connectTimeoutSeconds = try container.decodeIfPresent(Int.self, forKey: .connectTimeoutSeconds)
        }

        enum CodingKeys: String, CodingKey, CaseIterable {
            case listen, enclave, maxConnections, idleTimeoutSeconds, connectTimeoutSeconds
        }
    }

    struct Egress: Decodable {
        var listen: Endpoint
        var allowlist: String
        var allowLoopback: Bool?
        var allowPrivate: Bool?
        var maxConnections: Int?
        var idleTimeoutSeconds: Int?
        var connectTimeoutSeconds: Int?

        init(from decoder: any Decoder) throws {
            try rejectUnknownKeys(decoder, known: CodingKeys.self)
            let container = try decoder.container(keyedBy: CodingKeys.self)
            listen = try container.decode(Endpoint.self, forKey: .listen)
            allowlist = try container.decode(String.self, forKey: .allowlist)
            allowLoopback = try container.decodeIfPresent(Bool.self, forKey: .allowLoopback)
            allowPrivate = try container.decodeIfPresent(Bool.self, forKey: .allowPrivate)
            maxConnections = try container.decodeIfPresent(Int.self, forKey: .maxConnections)
            idleTimeoutSeconds = try container.decodeIfPresent(Int.self, forKey: .idleTimeoutSeconds)
            connectTimeoutSeconds = try container.decodeIfPresent(Int.self, forKey: .connectTimeoutSeconds)
        }

        enum CodingKeys: String, CodingKey, CaseIterable {
            case listen, allowlist, allowLoopback, allowPrivate, maxConnections, idleTimeoutSeconds
            case connectTimeoutSeconds
        }
    }

    struct Bridge: Decodable {
        var listen: Endpoint
        var upstream: Endpoint
        var maxConnections: Int?
        var idleTimeoutSeconds: Int?

        init(from decoder: any Decoder) throws {
            try rejectUnknownKeys(decoder, known: CodingKeys.self)
            let container = try decoder.container(keyedBy: CodingKeys.self)
            listen = try container.decode(Endpoint.self, forKey: .listen)
            upstream = try container.decode(Endpoint.self, forKey: .upstream)
            maxConnections = try container.decodeIfPresent(Int.self, forKey: .maxConnections)
            idleTimeoutSeconds = try container.decodeIfPresent(Int.self, forKey: .idleTimeoutSeconds)
        }

        enum CodingKeys: String, CodingKey, CaseIterable {
            case listen, upstream, maxConnections, idleTimeoutSeconds
        }
    }

    var ingress: Ingress?
    var egress: Egress?
    var bridge: Bridge?
    var metrics: Endpoint?
    var enclaveMetrics: Endpoint?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case ingress, egress, bridge, metrics, enclaveMetrics
    }

    init(from decoder: any Decoder) throws {
        try rejectUnknownKeys(decoder, known: CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        ingress = try container.decodeIfPresent(Ingress.self, forKey: .ingress)
        egress = try container.decodeIfPresent(Egress.self, forKey: .egress)
        bridge = try container.decodeIfPresent(Bridge.self, forKey: .bridge)
        metrics = try container.decodeIfPresent(Endpoint.self, forKey: .metrics)
        enclaveMetrics = try container.decodeIfPresent(Endpoint.self, forKey: .enclaveMetrics)
    }

    func configuration(relativeTo configPath: String) throws(ConfigurationError) -> HostProxyConfiguration {
        func limits(_ idle: Int?) throws(ConfigurationError) -> TunnelLimits {
            guard let idle else { return TunnelLimits() }
            guard idle > 0 else { throw .invalid(path: configPath, reason: "idleTimeoutSeconds must be positive") }
            return TunnelLimits(idleTimeout: .seconds(idle))
        }
        func positive(_ value: Int?, _ name: String, default fallback: Int) throws(ConfigurationError) -> Int {
            guard let value else { return fallback }
            guard value > 0 else { throw .invalid(path: configPath, reason: "\(name) must be positive, got \(value)") }
            return value
        }
        var result = HostProxyConfiguration(metrics: metrics, enclaveMetrics: enclaveMetrics)
        if let ingress {
            result.ingress = ForwardingConfiguration(
                listen: ingress.listen,
                upstream: ingress.enclave,
                maxConnections: try positive(ingress.maxConnections, "ingress.maxConnections", default: 1024),
                limits: try limits(ingress.idleTimeoutSeconds),
                connectTimeout: .seconds(
                    try positive(ingress.connectTimeoutSeconds, "ingress.connectTimeoutSeconds", default: 5))
            )
        }
        if let egress {
            var allowlistPath = egress.allowlist
            if !allowlistPath.hasPrefix("/") {
                allowlistPath =
                    URL(fileURLWithPath: configPath).deletingLastPathComponent()
                    .appendingPathComponent(allowlistPath).path
            }
            let allowlist: Allowlist
            do {
                allowlist = try Allowlist.load(path: allowlistPath)
            } catch {
                throw .allowlist(error)
            }
            result.egress = EgressConfiguration(
                listen: egress.listen,
                allowlist: allowlist,
                addressPolicy: AddressPolicy(
                    allowLoopback: egress.allowLoopback ?? false,
                    allowPrivate: egress.allowPrivate ?? false
                ),
                maxConnections: try positive(egress.maxConnections, "egress.maxConnections", default: 1024),
                limits: try limits(egress.idleTimeoutSeconds),
                connectTimeout: .seconds(
                    try positive(egress.connectTimeoutSeconds, "egress.connectTimeoutSeconds", default: 10))
            )
        }
        if let bridge {
            result.bridge = ForwardingConfiguration(
                listen: bridge.listen,
                upstream: bridge.upstream,
                maxConnections: try positive(bridge.maxConnections, "bridge.maxConnections", default: 1024),
                limits: try limits(bridge.idleTimeoutSeconds)
            )
        }
        guard result.ingress != nil || result.egress != nil || result.bridge != nil else {
            throw .invalid(path: configPath, reason: "it configures none of ingress, egress or bridge")
        }
        return result
    }
}

private struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

private func rejectUnknownKeys<Keys: CodingKey & CaseIterable>(_ decoder: any Decoder, known: Keys.Type) throws {
    let container = try decoder.container(keyedBy: AnyKey.self)
    let knownNames = Set(Keys.allCases.map(\.stringValue))
    for key in container.allKeys where !knownNames.contains(key.stringValue) {
        throw DecodingError.dataCorruptedError(
            forKey: key,
            in: container,
            debugDescription:
                "unknown key '\(key.stringValue)'; known keys: \(knownNames.sorted().joined(separator: ", "))"
        )
    }
}
