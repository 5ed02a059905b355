/// Parses a PROXY protocol v2 header from the first bytes of a connection.
///
/// Incremental by design: `parse` answers `nil` while the bytes seen so far are a valid prefix,
/// so the channel handler can call it after every read without buffering policy of its own.
/// A wrong prefix fails as soon as it is visible (the first byte of a TLS ClientHello fails at
/// offset 0), so a misconfigured peer is refused without waiting for more data.
public enum ProxyHeaderParser {
    public static let signature: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A]
    /// Signature, version/command, family/transport, u16 length.
    public static let fixedLength = 16
    /// UNIX addresses (216 bytes) plus room for TLVs; larger declared lengths are refused so a
    /// peer cannot make the handler buffer 64 KiB before TLS starts.
    public static let maximumAddressBlockLength = 1024

    /// Returns the header and the number of bytes it occupies, or `nil` when more bytes are needed.
    public static func parse(_ bytes: some Collection<UInt8>) throws(ProxyProtocolError) -> (header: ProxyHeader, length: Int)? {
        let bytes = Array(bytes.prefix(fixedLength + maximumAddressBlockLength))
        let version1Prefix = Array("PROXY ".utf8)
        if bytes.first == version1Prefix[0], bytes.prefix(version1Prefix.count).elementsEqual(version1Prefix.prefix(bytes.count)) {
            if bytes.count >= version1Prefix.count { throw .version1Header }
            return nil
        }
        for (offset, byte) in bytes.prefix(signature.count).enumerated() where byte != signature[offset] {
            throw .wrongSignature(offset: offset)
        }
        guard bytes.count >= fixedLength else { return nil }

        let version = bytes[12] >> 4
        guard version == 2 else { throw .unsupportedVersion(version) }
        guard let command = ProxyHeader.Command(rawValue: bytes[12] & 0x0F) else {
            throw .unsupportedCommand(bytes[12] & 0x0F)
        }
        let family = bytes[13] >> 4
        let transport = bytes[13] & 0x0F
        let declared = Int(bytes[14]) << 8 | Int(bytes[15])
        guard declared <= maximumAddressBlockLength else {
            throw .headerTooLong(declared: declared, limit: maximumAddressBlockLength)
        }
        guard bytes.count >= fixedLength + declared else { return nil }
        let block = Array(bytes[fixedLength..<(fixedLength + declared)])

        // LOCAL: the receiver must ignore the address block (proxy-protocol.txt §2.2).
        if command == .local {
            return (ProxyHeader(command: .local, source: nil, destination: nil, tlvs: []), fixedLength + declared)
        }
        let addressLength: Int
        switch family {
        case 0: addressLength = 0
        case 1: addressLength = 12
        case 2: addressLength = 36
        case 3: addressLength = 216
        default: throw .unsupportedFamily(family)
        }
        if family != 0 {
            guard transport == 1 else { throw .unsupportedTransport(transport) }
            guard declared >= addressLength else {
                throw .addressBlockTooShort(family: ["UNSPEC", "INET", "INET6", "UNIX"][Int(family)], expected: addressLength, actual: declared)
            }
        }
        let (source, destination) = addresses(family: family, block: block)
        let tlvs = try parseTLVs(block, from: family == 0 ? declared : addressLength)
        return (ProxyHeader(command: .proxy, source: source, destination: destination, tlvs: tlvs), fixedLength + declared)
    }

    private static func addresses(family: UInt8, block: [UInt8]) -> (ProxyHeader.Address?, ProxyHeader.Address?) {
        func port(_ offset: Int) -> UInt16 { UInt16(block[offset]) << 8 | UInt16(block[offset + 1]) }
        switch family {
        case 1:
            return (.ipv4(bytes: Array(block[0..<4]), port: port(8)), .ipv4(bytes: Array(block[4..<8]), port: port(10)))
        case 2:
            return (.ipv6(bytes: Array(block[0..<16]), port: port(32)), .ipv6(bytes: Array(block[16..<32]), port: port(34)))
        case 3:
            func path(_ range: Range<Int>) -> String {
                String(decoding: block[range].prefix { $0 != 0 }, as: UTF8.self)
            }
            return (.unix(path: path(0..<108)), .unix(path: path(108..<216)))
        default:
            return (nil, nil)
        }
    }

    /// Reads TLVs from `start` to the end of the address block; with UNSPEC the whole block is
    /// opaque (the spec says to skip it), so `start == block.count` and there are none.
    private static func parseTLVs(_ block: [UInt8], from start: Int) throws(ProxyProtocolError) -> [ProxyHeader.TLV] {
        var tlvs: [ProxyHeader.TLV] = []
        var offset = start
        while offset < block.count {
            guard block.count - offset >= 3 else { throw .truncatedTLV(offset: fixedLength + offset) }
            let length = Int(block[offset + 1]) << 8 | Int(block[offset + 2])
            guard block.count - offset - 3 >= length else { throw .truncatedTLV(offset: fixedLength + offset) }
            tlvs.append(ProxyHeader.TLV(type: block[offset], value: Array(block[(offset + 3)..<(offset + 3 + length)])))
            offset += 3 + length
        }
        return tlvs
    }
}
