import NIOCore

extension ProxyHeader {
    /// The header for a connection accepted with these socket addresses. TCP peers get a `PROXY`
    /// header; anything else (Unix, vsock, unknown) gets `LOCAL`, which tells the receiver to use
    /// the socket's own addresses. When one side is IPv4 and the other IPv6 (only odd dual-stack
    /// set-ups produce that), the IPv4 side is written IPv4-mapped so both share one family, as
    /// the specification requires.
    public init(source: SocketAddress?, destination: SocketAddress?) {
        switch (source.flatMap(IPEndpointBytes.init), destination.flatMap(IPEndpointBytes.init)) {
        case (.some(let source), .some(let destination)):
            if source.address.count == 4 && destination.address.count == 4 {
                self.init(
                    command: .proxy,
                    source: .ipv4(bytes: source.address, port: source.port),
                    destination: .ipv4(bytes: destination.address, port: destination.port)
                )
            } else {
                self.init(
                    command: .proxy,
                    source: .ipv6(bytes: source.mappedToIPv6, port: source.port),
                    destination: .ipv6(bytes: destination.mappedToIPv6, port: destination.port)
                )
            }
        default:
            self.init(command: .local, source: nil, destination: nil)
        }
    }

    /// The exact bytes to put on the wire before any payload: signature, version and command,
    /// family and transport, length, addresses, TLVs. `LOCAL` carries no addresses. Addresses of
    /// the wrong length (only possible for values built by hand) are cut or zero-filled so the
    /// length field is always right; two different families are written as `UNSPEC`.
    public func encoded() -> [UInt8] {
        let tlvBytes = tlvs.flatMap { [$0.type] + Self.bigEndian(UInt16(clamping: $0.value.count)) + $0.value.prefix(0xFFFF) }
        var familyTransport: UInt8 = 0x00
        var block: [UInt8] = []
        if command == .proxy {
            switch (source, destination) {
            case (.ipv4(let from, let fromPort), .ipv4(let to, let toPort)):
                familyTransport = 0x11
                block = Self.padded(from, to: 4) + Self.padded(to, to: 4) + Self.bigEndian(fromPort) + Self.bigEndian(toPort)
            case (.ipv6(let from, let fromPort), .ipv6(let to, let toPort)):
                familyTransport = 0x21
                block = Self.padded(from, to: 16) + Self.padded(to, to: 16) + Self.bigEndian(fromPort) + Self.bigEndian(toPort)
            case (.unix(let from), .unix(let to)):
                familyTransport = 0x31
                block = Self.padded(Array(from.utf8), to: 108) + Self.padded(Array(to.utf8), to: 108)
            default:
                break
            }
        }
        block += tlvBytes
        let versionCommand: UInt8 = 0x20 | command.rawValue
        return ProxyHeaderParser.signature + [versionCommand, familyTransport] + Self.bigEndian(UInt16(block.count)) + block
    }

    private static func padded(_ bytes: [UInt8], to count: Int) -> [UInt8] {
        Array((bytes + [UInt8](repeating: 0, count: count)).prefix(count))
    }

    private static func bigEndian(_ value: UInt16) -> [UInt8] {
        [UInt8(value >> 8), UInt8(value & 0xFF)]
    }
}

/// The raw bytes and port of an IP socket address.
public struct IPEndpointBytes: Hashable, Sendable {
    /// 4 bytes for IPv4, 16 for IPv6, network order.
    public let address: [UInt8]
    public let port: UInt16

    public init?(_ socketAddress: SocketAddress) {
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

    /// IPv4 as an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`); IPv6 unchanged.
    public var mappedToIPv6: [UInt8] {
        address.count == 4 ? [UInt8](repeating: 0, count: 10) + [0xFF, 0xFF] + address : address
    }
}
