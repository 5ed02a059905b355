import EnclaveIPC
import NIOCore

/// The kinds of address egress refuses by default. After DNS resolution every address is
/// classified, so a public name that resolves to an internal address (DNS rebinding) is caught
/// as surely as a literal one.
public enum AddressCategory: String, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// 127.0.0.0/8, ::1.
    case loopback
    /// 10/8, 172.16/12, 192.168/16, 100.64/10 (carrier-grade NAT, also used inside VPCs),
    /// fc00::/7 (unique local, which includes AWS's fd00:ec2::/32 services).
    case `private`
    /// The instance metadata service, 169.254.169.254 and fd00:ec2::254: credentials live there,
    /// so it is named separately in logs even though it is link-local or private too.
    case metadata
    /// 169.254/16, fe80::/10.
    case linkLocal = "link-local"
    /// 0.0.0.0/8, ::. Connecting to "nothing" reaches the local host on Linux.
    case unspecified
    /// 224/4, ff00::/8.
    case multicast
    /// 240/4 (incl. 255.255.255.255) and the other special-purpose IPv4 blocks that are never a
    /// provider: 192.0.0/24, 198.18/15, and the documentation ranges.
    case reserved

    public var description: String { rawValue }

    /// The category of a 4- or 16-byte address, or nil for an ordinary public address. IPv4
    /// addresses embedded in IPv6 (IPv4-mapped `::ffff:a.b.c.d`, IPv4-compatible `::a.b.c.d`,
    /// NAT64 `64:ff9b::/96`) are classified by the IPv4 address they lead to.
    public static func of(_ address: [UInt8]) -> AddressCategory? {
        switch address.count {
        case 4: return ofIPv4(address[0], address[1], address[2], address[3])
        case 16: return ofIPv6(address)
        default: return .reserved
        }
    }

    private static func ofIPv4(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) -> AddressCategory? {
        switch (a, b, c, d) {
        case (169, 254, 169, 254): return .metadata
        case (0, _, _, _): return .unspecified
        case (127, _, _, _): return .loopback
        case (10, _, _, _): return .private
        case (172, 16...31, _, _): return .private
        case (192, 168, _, _): return .private
        case (100, 64...127, _, _): return .private
        case (169, 254, _, _): return .linkLocal
        case (224...239, _, _, _): return .multicast
        case (240...255, _, _, _): return .reserved
        case (192, 0, 0, _), (192, 0, 2, _), (198, 18...19, _, _), (198, 51, 100, _), (203, 0, 113, _):
            return .reserved
        default: return nil
        }
    }

    private static func ofIPv6(_ bytes: [UInt8]) -> AddressCategory? {
        let prefix10 = bytes[0..<10].allSatisfy { $0 == 0 }
        if prefix10 && bytes[10] == 0xFF && bytes[11] == 0xFF {
            return ofIPv4(bytes[12], bytes[13], bytes[14], bytes[15])  // ::ffff:a.b.c.d
        }
        if prefix10 && bytes[10] == 0 && bytes[11] == 0 {
            if bytes[12..<15].allSatisfy({ $0 == 0 }) {
                if bytes[15] == 0 { return .unspecified }  // ::
                if bytes[15] == 1 { return .loopback }  // ::1
            }
            return ofIPv4(bytes[12], bytes[13], bytes[14], bytes[15])  // ::a.b.c.d (deprecated form)
        }
        if bytes[0..<12].elementsEqual([0x00, 0x64, 0xFF, 0x9B, 0, 0, 0, 0, 0, 0, 0, 0]) {
            return ofIPv4(bytes[12], bytes[13], bytes[14], bytes[15])  // 64:ff9b::/96 NAT64
        }
        let metadata: [UInt8] = [0xFD, 0x00, 0x0E, 0xC2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x54]
        if bytes == metadata { return .metadata }
        if bytes[0] & 0xFE == 0xFC { return .private }  // fc00::/7
        if bytes[0] == 0xFE && bytes[1] & 0xC0 == 0x80 { return .linkLocal }  // fe80::/10
        if bytes[0] == 0xFF { return .multicast }
        return nil
    }
}

/// Which address categories egress may connect to. The default allows only public addresses;
/// dev mode allows loopback so the mock upstreams on 127.0.0.1 are reachable. Metadata and
/// link-local are never allowable: no provider lives there, and the metadata service hands out
/// the host's credentials.
public struct AddressPolicy: Hashable, Sendable {
    public let allowed: Set<AddressCategory>

    public static let publicOnly = AddressPolicy(uncheckedAllowed: [])

    /// `allowLoopback` is for dev and tests (mock upstreams on loopback); `allowPrivate` is for
    /// providers reached inside a VPC (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7).
    public init(allowLoopback: Bool = false, allowPrivate: Bool = false) {
        var allowed: Set<AddressCategory> = []
        if allowLoopback { allowed.insert(.loopback) }
        if allowPrivate { allowed.insert(.private) }
        self.allowed = allowed
    }

    private init(uncheckedAllowed: Set<AddressCategory>) {
        self.allowed = uncheckedAllowed
    }

    /// nil when `address` may be connected to, else the category that forbids it.
    public func refusal(for address: SocketAddress) -> AddressCategory? {
        guard let bytes = IPEndpointBytes(address)?.address else { return .reserved }
        guard let category = AddressCategory.of(bytes) else { return nil }
        return allowed.contains(category) ? nil : category
    }
}
