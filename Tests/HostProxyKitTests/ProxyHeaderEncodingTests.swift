import EnclaveIPC
import NIOCore
import Testing

@testable import HostProxyKit

/// Checks the encoder against the byte layout of haproxy's proxy-protocol.txt §2.2, and parses
/// the header back with an independent reader written from the same section.
@Suite struct ProxyHeaderEncodingTests {
    /// The fields of a v2 header, read straight from the specification's layout.
    struct Parsed: Equatable {
        var version: UInt8
        var command: UInt8
        var family: UInt8
        var transport: UInt8
        var source: [UInt8]
        var destination: [UInt8]
        var sourcePort: UInt16
        var destinationPort: UInt16
    }

    enum ParseError: Error {
        case short, badSignature
        case lengthMismatch(Int, Int)
    }

    static func parse(_ bytes: [UInt8]) throws -> Parsed {
        guard bytes.count >= 16 else { throw ParseError.short }
        guard bytes[0..<12].elementsEqual([0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A])
        else {
            throw ParseError.badSignature
        }
        let length = Int(bytes[14]) << 8 | Int(bytes[15])
        guard bytes.count == 16 + length else { throw ParseError.lengthMismatch(bytes.count, 16 + length) }
        let family = bytes[13] >> 4
        let addressSize = family == 1 ? 4 : family == 2 ? 16 : 0
        var parsed = Parsed(
            version: bytes[12] >> 4,
            command: bytes[12] & 0x0F,
            family: family,
            transport: bytes[13] & 0x0F,
            source: [],
            destination: [],
            sourcePort: 0,
            destinationPort: 0
        )
        if addressSize > 0 {
            guard length >= 2 * addressSize + 4 else { throw ParseError.short }
            let body = Array(bytes[16...])
            parsed.source = Array(body[0..<addressSize])
            parsed.destination = Array(body[addressSize..<(2 * addressSize)])
            let ports = 2 * addressSize
            parsed.sourcePort = UInt16(body[ports]) << 8 | UInt16(body[ports + 1])
            parsed.destinationPort = UInt16(body[ports + 2]) << 8 | UInt16(body[ports + 3])
        }
        return parsed
    }

    @Test func ipv4MatchesTheSpecificationLayout() throws {
        let header = ProxyHeader(
            source: try SocketAddress(ipAddress: "203.0.113.7", port: 51_234),
            destination: try SocketAddress(ipAddress: "10.1.2.3", port: 443)
        )
        let bytes = header.encoded()
        // Signature, 0x21 (v2, PROXY), 0x11 (AF_INET, STREAM), length 12, then
        // src addr, dst addr, src port, dst port, all big-endian.
        let expected: [UInt8] =
            [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A, 0x21, 0x11, 0x00, 0x0C]
            + [203, 0, 113, 7, 10, 1, 2, 3, 0xC8, 0x22, 0x01, 0xBB]
        #expect(bytes == expected)
        let parsed = try Self.parse(bytes)
        #expect(
            parsed
                == Parsed(
                    version: 2, command: 1, family: 1, transport: 1,
                    source: [203, 0, 113, 7], destination: [10, 1, 2, 3], sourcePort: 51_234, destinationPort: 443
                ))
    }

    @Test func ipv6CarriesSixteenByteAddresses() throws {
        let header = ProxyHeader(
            source: try SocketAddress(ipAddress: "2001:db8::1", port: 40_000),
            destination: try SocketAddress(ipAddress: "2001:db8::2", port: 8443)
        )
        let bytes = header.encoded()
        #expect(bytes.count == 16 + 36)
        #expect(bytes[12] == 0x21)
        #expect(bytes[13] == 0x21)
        let parsed = try Self.parse(bytes)
        #expect(parsed.family == 2)
        #expect(parsed.source == [0x20, 0x01, 0x0D, 0xB8] + [UInt8](repeating: 0, count: 11) + [1])
        #expect(parsed.destination.last == 2)
        #expect(parsed.sourcePort == 40_000)
        #expect(parsed.destinationPort == 8443)
    }

    @Test func mixedFamiliesAreWrittenAsIPv4MappedIPv6() throws {
        let header = ProxyHeader(
            source: try SocketAddress(ipAddress: "192.0.2.10", port: 1000),
            destination: try SocketAddress(ipAddress: "::1", port: 443)
        )
        let parsed = try Self.parse(header.encoded())
        #expect(parsed.family == 2)
        #expect(parsed.source == [UInt8](repeating: 0, count: 10) + [0xFF, 0xFF, 192, 0, 2, 10])
        #expect(parsed.destination == [UInt8](repeating: 0, count: 15) + [1])
    }

    @Test func unixAndMissingAddressesGiveLocal() throws {
        let unix = try SocketAddress(unixDomainSocketPath: "/tmp/client.sock")
        for header in [
            ProxyHeader(source: unix, destination: unix),
            ProxyHeader(source: nil, destination: try SocketAddress(ipAddress: "127.0.0.1", port: 1)),
        ] {
            let bytes = header.encoded()
            #expect(bytes == ProxyHeaderParser.signature + [0x20, 0x00, 0x00, 0x00])
            let parsed = try Self.parse(bytes)
            #expect(parsed.command == 0)
            #expect(parsed.family == 0)
        }
    }

    @Test func handBuiltAddressesOfTheWrongLengthKeepTheLengthFieldRight() throws {
        let header = ProxyHeader(command: .proxy, source: .ipv4(bytes: [1, 2], port: 1), destination: .ipv4(bytes: [1, 2, 3, 4, 5], port: 2))
        let parsed = try Self.parse(header.encoded())
        #expect(parsed.source == [1, 2, 0, 0])
        #expect(parsed.destination == [1, 2, 3, 4])
    }

    /// The encoder (host-proxy's ingress) and the parser (tls-front) agree on every header form.
    @Test func everyEncodedHeaderParsesBackToItself() throws {
        let headers = [
            ProxyHeader(
                source: try SocketAddress(ipAddress: "203.0.113.7", port: 51_234),
                destination: try SocketAddress(ipAddress: "10.1.2.3", port: 443)),
            ProxyHeader(
                source: try SocketAddress(ipAddress: "2001:db8::7", port: 50_000),
                destination: try SocketAddress(ipAddress: "2001:db8::1", port: 443)),
            ProxyHeader(command: .local, source: nil, destination: nil),
            ProxyHeader(
                command: .proxy, source: .unix(path: "/run/client.sock"), destination: .unix(path: "/run/front.sock"),
                tlvs: [ProxyHeader.TLV(type: 0x01, value: Array("h2".utf8))]),
        ]
        for header in headers {
            let bytes = header.encoded()
            let parsed = try #require(try ProxyHeaderParser.parse(bytes + [0x16, 0x03]))
            #expect(parsed.header == header)
            #expect(parsed.length == bytes.count, "the parser consumes exactly the header, not the TLS bytes after it")
        }
    }
}
