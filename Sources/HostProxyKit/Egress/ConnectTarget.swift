import EnclaveIPC

/// The `host:port` of a CONNECT request (RFC 9110 §9.3.6 authority-form), canonicalised the way
/// the allowlist stores hosts: lowercase DNS name, dotted-quad IPv4, or RFC 5952 IPv6.
public struct ConnectTarget: Hashable, Sendable, CustomStringConvertible {
    public let host: String
    public let port: UInt16

    /// Only authority-form is accepted: no scheme, no path, no userinfo, a port from 1 to
    /// 65535, IPv6 in brackets.
    public init(parsing target: String) throws(ConnectTargetError) {
        if target.contains("://") || target.hasPrefix("/") {
            throw .notAuthorityForm(target)
        }
        let endpoint: Endpoint
        do {
            endpoint = try Endpoint(parsing: "tcp://" + target)
        } catch .missingPort {
            throw .missingPort(target)
        } catch {
            throw .invalid(target, reason: error.description)
        }
        guard case .tcp(let host, let port) = endpoint.address else { throw .notAuthorityForm(target) }
        guard port != 0 else { throw .invalid(target, reason: "port 0 is not a destination") }
        self.host = host
        self.port = port
    }

    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}

public enum ConnectTargetError: Error, Hashable, Sendable, CustomStringConvertible {
    case notAuthorityForm(String)
    case missingPort(String)
    case invalid(String, reason: String)

    public var description: String {
        switch self {
        case .notAuthorityForm(let target):
            return "CONNECT target '\(target.prefix(80))' must be HOST:PORT, not a URL or path"
        case .missingPort(let target):
            return "CONNECT target '\(target.prefix(80))' has no port"
        case .invalid(let target, let reason):
            return "CONNECT target '\(target.prefix(80))' is invalid: \(reason)"
        }
    }
}
