#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A PROXY protocol v2 header (haproxy's proxy-protocol.txt §2.2): what host-proxy's ingress
/// prepends to each connection (`encoded()`) so tls-front learns the real client address through
/// vsock (`ProxyHeaderParser`). One type for both ends, so they cannot disagree on the layout.
public struct ProxyHeader: Hashable, Sendable {
    public enum Command: UInt8, Hashable, Sendable {
        /// A connection the proxy made itself (a health check): the addresses carry no client.
        case local = 0
        /// A relayed client connection: `source` is the client.
        case proxy = 1
    }

    public enum Address: Hashable, Sendable, CustomStringConvertible {
        case ipv4(bytes: [UInt8], port: UInt16)
        case ipv6(bytes: [UInt8], port: UInt16)
        case unix(path: String)

        /// The form `X-Forwarded-For` carries: the bare address (no port), IPv6 in RFC 5952 text.
        public var host: String {
            switch self {
            case .ipv4(let bytes, _): return bytes.map(String.init).joined(separator: ".")
            case .ipv6(let bytes, _): return Self.ipv6Text(bytes)
            case .unix(let path): return "unix:" + path
            }
        }

        public var description: String {
            switch self {
            case .ipv4(_, let port): return "\(host):\(port)"
            case .ipv6(_, let port): return "[\(host)]:\(port)"
            case .unix: return host
            }
        }

        private static func ipv6Text(_ bytes: [UInt8]) -> String {
            var address = in6_addr()
            withUnsafeMutableBytes(of: &address) { raw in
                for (index, byte) in bytes.prefix(16).enumerated() { raw[index] = byte }
            }
            var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            guard inet_ntop(AF_INET6, &address, &text, socklen_t(text.count)) != nil else {
                return bytes.map { String($0, radix: 16) }.joined(separator: ":")
            }
            return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }

    /// A type-length-value extension (ALPN, authority, CRC32C, vendor data…). Kept raw:
    /// tls-front does not act on any TLV, but parsing them proves the header is well formed.
    public struct TLV: Hashable, Sendable {
        public let type: UInt8
        public let value: [UInt8]

        public init(type: UInt8, value: [UInt8]) {
            self.type = type
            self.value = value
        }
    }

    public let command: Command
    /// Nil for the LOCAL command and for the UNSPEC address family.
    public let source: Address?
    public let destination: Address?
    public let tlvs: [TLV]

    public init(command: Command, source: Address?, destination: Address?, tlvs: [TLV] = []) {
        self.command = command
        self.source = source
        self.destination = destination
        self.tlvs = tlvs
    }
}
