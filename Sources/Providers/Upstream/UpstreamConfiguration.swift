import Foundation
import NIOSSL

/// An HTTP CONNECT proxy every upstream connection goes through. In the enclave the workers reach
/// the internet only via the host proxy's local end, `127.0.0.1:3128`.
public struct EgressProxy: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port` (`[v6]:port` for IPv6 literals); nil when either part is missing or the
    /// port is not 1...65535.
    public init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (1...65535).contains(port)
        else { return nil }
        var host = Substring(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = host.dropFirst().dropLast() }
        guard !host.isEmpty else { return nil }
        self.init(host: String(host), port: port)
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// Network behaviour shared by every HTTP adapter.
public struct UpstreamConfiguration: Sendable {
    /// TCP (and proxy CONNECT) establishment limit.
    public var connectTimeout: Duration
    /// Longest silence between two received bytes. Reasoning models can think for a while before
    /// the first token, so this is generous; streams that stall longer end with `.timeout`.
    public var readTimeout: Duration
    /// Cap on one whole request including its streamed body.
    public var requestDeadline: Duration
    public var proxy: EgressProxy?
    /// Largest single server-sent event accepted from upstream.
    public var maxEventBytes: Int
    /// Certificate authorities trusted in addition to the system's, for private
    /// OpenAI-compatible endpoints with their own CA (load them with `trustRoots(pemFile:)`).
    /// Empty means the system roots only.
    public var additionalTrustRoots: [NIOSSLCertificate] = []

    public init(
        connectTimeout: Duration = .seconds(15), readTimeout: Duration = .seconds(120),
        requestDeadline: Duration = .seconds(900), proxy: EgressProxy? = nil, maxEventBytes: Int = 4 << 20
    ) {
        self.connectTimeout = connectTimeout
        self.readTimeout = readTimeout
        self.requestDeadline = requestDeadline
        self.proxy = proxy
        self.maxEventBytes = maxEventBytes
    }
}

/// Why a PEM file of extra trust roots could not be used.
public enum UpstreamTrustRootsError: Error, Equatable, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    case noCertificates(path: String)
    case invalid(path: String, reason: String)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason): "cannot read \(path): \(reason)"
        case .noCertificates(let path): "\(path) holds no PEM certificate (-----BEGIN CERTIFICATE-----)"
        case .invalid(let path, let reason): "\(path) is not a valid PEM certificate file: \(reason)"
        }
    }
}

extension UpstreamConfiguration {
    /// Reads every certificate in a PEM file, failing at start-up rather than on the first
    /// upstream call, so an operator learns about a wrong path or a key file at once.
    public static func trustRoots(pemFile path: String) throws(UpstreamTrustRootsError) -> [NIOSSLCertificate] {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw .unreadable(path: path, reason: error.localizedDescription)
        }
        guard data.count <= 1 << 20 else { throw .unreadable(path: path, reason: "larger than 1 MiB") }
        guard String(decoding: data, as: UTF8.self).contains("-----BEGIN CERTIFICATE-----") else {
            throw .noCertificates(path: path)
        }
        do {
            return try NIOSSLCertificate.fromPEMBytes(Array(data))
        } catch {
            throw .invalid(path: path, reason: "\(error)")
        }
    }
}
