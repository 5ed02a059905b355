/// Where an enclave process listens or connects: `vsock://CID:PORT`, `unix:///absolute/path` or
/// `tcp://HOST:PORT`.
///
/// Every `Endpoint` is valid by construction: the only ways to make one are the parser
/// (`init(parsing:)`, also used by `Codable`) and the static factories, which run the same checks.
/// So code that binds or connects never re-validates, and `description` is the canonical text
/// form: `Endpoint(parsing: e.description) == e` for every endpoint.
public struct Endpoint: Hashable, Sendable {
    /// The transport and its address. Pattern-match on this to learn the kind (for example, only
    /// `.unix` peers carry `SO_PEERCRED` credentials).
    public enum Address: Hashable, Sendable {
        /// `cid` 4294967295 is `VMADDR_CID_ANY` (bind on every CID); `port` 4294967295 is
        /// `VMADDR_PORT_ANY`. In a Nitro Enclave the parent instance is CID 3.
        case vsock(cid: UInt32, port: UInt32)
        /// An absolute filesystem path that fits in `sockaddr_un.sun_path`.
        case unix(path: String)
        /// `host` is a dotted-quad IPv4 address, an IPv6 address in RFC 5952 form (without
        /// brackets), or a lowercase DNS name. Port 0 asks the OS for a free port when binding.
        case tcp(host: String, port: UInt16)
    }

    public let address: Address

    init(validated address: Address) {
        self.address = address
    }

    /// Any CID and port is a valid vsock address, so this cannot fail.
    public static func vsock(cid: UInt32, port: UInt32) -> Endpoint {
        Endpoint(validated: .vsock(cid: cid, port: port))
    }

    /// Fails for a relative path, an embedded NUL, a trailing `/`, or a path longer than
    /// `sun_path` can hold (the kernel would silently truncate it and bind somewhere else).
    public static func unix(path: String) throws(EndpointError) -> Endpoint {
        try EndpointParser.validateUnixPath(path)
        return Endpoint(validated: .unix(path: path))
    }

    /// `host` is given without brackets, even for IPv6. It is stored in canonical form
    /// (lowercase, IPv6 compressed per RFC 5952).
    public static func tcp(host: String, port: UInt16) throws(EndpointError) -> Endpoint {
        Endpoint(validated: .tcp(host: try EndpointParser.canonicalHost(host), port: port))
    }

    /// Parses the textual form. Errors name the failing part (scheme, host, port, CID, path) and
    /// the limit that was exceeded.
    public init(parsing text: String) throws(EndpointError) {
        self = try EndpointParser.parse(text)
    }
}

extension Endpoint: CustomStringConvertible {
    public var description: String {
        switch address {
        case .vsock(let cid, let port):
            return "vsock://\(cid):\(port)"
        case .unix(let path):
            return "unix://\(path)"
        case .tcp(let host, let port):
            return host.contains(":") ? "tcp://[\(host)]:\(port)" : "tcp://\(host):\(port)"
        }
    }
}

/// Encoded as its canonical string, so configuration files and command lines share one syntax.
extension Endpoint: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do {
            self = try Endpoint(parsing: text)
        } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.description)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
