/// Why a PROXY protocol v2 header was refused. tls-front closes the connection on any of these:
/// a peer that should speak PROXY v2 (host-proxy) and does not is misconfigured or hostile.
public enum ProxyProtocolError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The first bytes are not the 12-byte v2 signature; `offset` is the first differing byte.
    case wrongSignature(offset: Int)
    /// The connection starts with the text form ("PROXY TCP4 …"); only v2 is accepted.
    case version1Header
    case unsupportedVersion(UInt8)
    case unsupportedCommand(UInt8)
    case unsupportedFamily(UInt8)
    /// Only stream transports are relayed to an HTTPS listener.
    case unsupportedTransport(UInt8)
    /// The declared address-block length is shorter than the family's addresses need.
    case addressBlockTooShort(family: String, expected: Int, actual: Int)
    /// The declared length exceeds `ProxyHeaderParser.maximumAddressBlockLength`.
    case headerTooLong(declared: Int, limit: Int)
    /// A TLV at `offset` (from the start of the header) runs past the declared length.
    case truncatedTLV(offset: Int)
    /// The connection closed, or the header did not arrive in time, before the header was complete.
    case incomplete(received: Int)

    public var description: String {
        switch self {
        case .wrongSignature(let offset):
            return "PROXY v2: byte \(offset) does not match the 12-byte v2 signature"
        case .version1Header:
            return "PROXY v2: got a PROXY v1 text header; only the binary v2 header is accepted"
        case .unsupportedVersion(let version):
            return "PROXY v2: version nibble is \(version), expected 2"
        case .unsupportedCommand(let command):
            return "PROXY v2: command nibble is \(command), expected 0 (LOCAL) or 1 (PROXY)"
        case .unsupportedFamily(let family):
            return "PROXY v2: address family nibble is \(family), expected 0-3 (UNSPEC, INET, INET6, UNIX)"
        case .unsupportedTransport(let transport):
            return "PROXY v2: transport nibble is \(transport), expected 1 (STREAM)"
        case .addressBlockTooShort(let family, let expected, let actual):
            return "PROXY v2: \(family) addresses need \(expected) bytes, the header declares \(actual)"
        case .headerTooLong(let declared, let limit):
            return "PROXY v2: declared length \(declared) exceeds the limit of \(limit) bytes"
        case .truncatedTLV(let offset):
            return "PROXY v2: TLV at offset \(offset) runs past the end of the header"
        case .incomplete(let received):
            return "PROXY v2: connection ended after \(received) bytes, before the header was complete"
        }
    }
}
