import NIOCore

/// A PROXY protocol version 2 header (haproxy's proxy-protocol.txt, section 2.2), the binary
/// preamble ingress writes on every enclave connection so tls-front learns the client's address
/// even though the enclave only ever sees the host's vsock peer.
///
/// Only the encoder lives here; tls-front owns the parser. The header carries no TLVs: the
/// enclave needs the addresses and nothing else, and an empty TLV section keeps the header a
/// fixed 16 + 12 (IPv4) or 16 + 36 (IPv6) bytes.
public struct ProxyHeaderV2: Hashable, Sendable {
    /// The 12-byte signature every v2 header starts with ("\r\n\r\n\0\r\nQUIT\n").
    public static let signature: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A]

    public enum Addresses: Hashable, Sendable {
        /// `LOCAL` command, `AF_UNSPEC`: the connection carries no client address (a Unix or
        /// vsock client, or a health check). The receiver must use the socket's own addresses.
        case local
        /// `PROXY` command over TCP/IPv4. Addresses are in network byte order.
        case ipv4(source: [UInt8], destination: [UInt8], sourcePort: UInt16, destinationPort: UInt16)
        /// `PROXY` command over TCP/IPv6. Addresses are the 16 bytes of `in6_addr`.
        case ipv6(source: [UInt8], destination: [UInt8], sourcePort: UInt16, destinationPort: UInt16)
    }

    public let addresses: Addresses

    public init(addresses: Addresses) {
        self.addresses = addresses
    }

    /// The header for a connection accepted with these socket addresses. TCP peers get a
    /// `PROXY` header; anything else (Unix, vsock, unknown) gets `LOCAL`. When one side is IPv4
    /// and the other IPv6 (a dual-stack listener can produce that only in odd set-ups), the IPv4
    /// side is written as an IPv4-mapped IPv6 address so both share one family, as the
    /// specification requires.
    public init(source: SocketAddress?, destination: SocketAddress?) {
        switch (source.flatMap(IPEndpointBytes.init), destination.flatMap(IPEndpointBytes.init)) {
        case (.some(let source), .some(let destination)):
            if source.address.count == 4 && destination.address.count == 4 {
                self.addresses = .ipv4(
                    source: source.address,
                    destination: destination.address,
                    sourcePort: source.port,
                    destinationPort: destination.port
                )
            } else {
                self.addresses = .ipv6(
                    source: source.mappedToIPv6,
                    destination: destination.mappedToIPv6,
                    sourcePort: source.port,
                    destinationPort: destination.port
                )
            }
        default:
            self.addresses = .local
        }
    }

    /// The exact bytes to put on the wire before any payload.
    public func encoded() -> [UInt8] {
        var bytes = Self.signature
        switch addresses {
        case .local:
            bytes += [0x20, 0x00, 0x00, 0x00]
        case .ipv4(let source, let destination, let sourcePort, let destinationPort):
            bytes += [0x21, 0x11, 0x00, 12]
            bytes += Self.padded(source, to: 4) + Self.padded(destination, to: 4)
            bytes += Self.bigEndian(sourcePort) + Self.bigEndian(destinationPort)
        case .ipv6(let source, let destination, let sourcePort, let destinationPort):
            bytes += [0x21, 0x21, 0x00, 36]
            bytes += Self.padded(source, to: 16) + Self.padded(destination, to: 16)
            bytes += Self.bigEndian(sourcePort) + Self.bigEndian(destinationPort)
        }
        return bytes
    }

    /// Addresses of the wrong length cannot come from `init(source:destination:)`; for values
    /// built by hand they are cut or zero-filled so the header length field is always right.
    private static func padded(_ address: [UInt8], to count: Int) -> [UInt8] {
        Array((address + [UInt8](repeating: 0, count: count)).prefix(count))
    }

    private static func bigEndian(_ value: UInt16) -> [UInt8] {
        [UInt8(value >> 8), UInt8(value & 0xFF)]
    }
}

/// The raw bytes and port of an IP socket address.
struct IPEndpointBytes: Hashable, Sendable {
    /// 4 bytes for IPv4, 16 for IPv6, network order.
    let address: [UInt8]
    let port: UInt16

    init?(_ socketAddress: SocketAddress) {
        switch socketAddress {
        case .v4(let v4):
            var raw = v4.address.sin_addr
            self.address = withUnsafeBytes(of: &raw) { Array($0) }
            self.port = UInt16(bigEndian: v4.address.sin_port)
        case .v6(let v6):
            var raw = v6.address.sin6_addr
            self.address = withUnsafeBytes(of: &raw) { Array($0) }
            self.port = UInt16(bigEndian: v6.address.sin6_port)
        case .unixDomainSocket:
            return nil
        }
    }

    var mappedToIPv6: [UInt8] {
        address.count == 4 ? [UInt8](repeating: 0, count: 10) + [0xFF, 0xFF] + address : address
    }
}
