import Testing

@testable import EnclaveIPC

@Suite("PROXY protocol v2 parser")
struct ProxyHeaderParserTests {
    static let signature = ProxyHeaderParser.signature

    /// A v2 header: signature, version/command byte, family/transport byte, then `block`.
    static func header(versionCommand: UInt8 = 0x21, familyTransport: UInt8, block: [UInt8]) -> [UInt8] {
        signature + [versionCommand, familyTransport, UInt8(block.count >> 8), UInt8(block.count & 0xFF)] + block
    }

    static let ipv4Block: [UInt8] = [203, 0, 113, 7, 10, 0, 0, 1, 0xC3, 0x50, 0x01, 0xBB]  // 203.0.113.7:50000 → 10.0.0.1:443

    @Test func ipv4ProxyHeader() throws {
        let bytes = Self.header(familyTransport: 0x11, block: Self.ipv4Block)
        let (header, length) = try #require(try ProxyHeaderParser.parse(bytes))
        #expect(length == 28)
        #expect(header.command == .proxy)
        #expect(header.source == .ipv4(bytes: [203, 0, 113, 7], port: 50000))
        #expect(header.destination == .ipv4(bytes: [10, 0, 0, 1], port: 443))
        #expect(header.source?.host == "203.0.113.7")
        #expect(header.tlvs.isEmpty)
    }

    @Test func headerFollowedByTLSBytesReportsOnlyItsOwnLength() throws {
        let bytes = Self.header(familyTransport: 0x11, block: Self.ipv4Block) + [0x16, 0x03, 0x01]
        let (_, length) = try #require(try ProxyHeaderParser.parse(bytes))
        #expect(length == bytes.count - 3)
    }

    @Test func ipv6ProxyHeader() throws {
        var source = [UInt8](repeating: 0, count: 16)
        source[0] = 0x20; source[1] = 0x01; source[2] = 0x0d; source[3] = 0xb8; source[15] = 0x01
        let destination = [UInt8](repeating: 0, count: 15) + [1]
        let block = source + destination + [0x04, 0xD2, 0x01, 0xBB]
        let (header, _) = try #require(try ProxyHeaderParser.parse(Self.header(familyTransport: 0x21, block: block)))
        #expect(header.source?.host == "2001:db8::1")
        #expect(header.source?.description == "[2001:db8::1]:1234")
        #expect(header.destination?.host == "::1")
    }

    @Test func unixProxyHeader() throws {
        var block = [UInt8](repeating: 0, count: 216)
        let path = Array("/run/client.sock".utf8)
        block.replaceSubrange(0..<path.count, with: path)
        let (header, _) = try #require(try ProxyHeaderParser.parse(Self.header(familyTransport: 0x31, block: block)))
        #expect(header.source == .unix(path: "/run/client.sock"))
        #expect(header.destination == .unix(path: ""))
    }

    @Test func tlvsAfterAddresses() throws {
        let alpn: [UInt8] = [0x01, 0x00, 0x02, 0x68, 0x32]  // PP2_TYPE_ALPN "h2"
        let authority: [UInt8] = [0x02, 0x00, 0x03] + Array("a.b".utf8)
        let bytes = Self.header(familyTransport: 0x11, block: Self.ipv4Block + alpn + authority)
        let (header, _) = try #require(try ProxyHeaderParser.parse(bytes))
        #expect(header.tlvs == [.init(type: 1, value: Array("h2".utf8)), .init(type: 2, value: Array("a.b".utf8))])
    }

    @Test func truncatedTLVIsRefusedWithItsOffset() {
        let bytes = Self.header(familyTransport: 0x11, block: Self.ipv4Block + [0x01, 0x00, 0x05, 0x68])
        #expect(throws: ProxyProtocolError.truncatedTLV(offset: 28)) { try ProxyHeaderParser.parse(bytes) }
        let shortHead = Self.header(familyTransport: 0x11, block: Self.ipv4Block + [0x01, 0x00])
        #expect(throws: ProxyProtocolError.truncatedTLV(offset: 28)) { try ProxyHeaderParser.parse(shortHead) }
    }

    @Test func localCommandIgnoresAddresses() throws {
        let bytes = Self.header(versionCommand: 0x20, familyTransport: 0x11, block: Self.ipv4Block)
        let (header, length) = try #require(try ProxyHeaderParser.parse(bytes))
        #expect(header.command == .local)
        #expect(header.source == nil)
        #expect(length == 28)
    }

    @Test func unspecifiedFamilySkipsTheBlock() throws {
        let (header, length) = try #require(try ProxyHeaderParser.parse(Self.header(familyTransport: 0x00, block: [1, 2, 3])))
        #expect(header.command == .proxy)
        #expect(header.source == nil)
        #expect(header.tlvs.isEmpty)
        #expect(length == 19)
    }

    @Test func everyTruncationOfAValidHeaderAsksForMore() throws {
        let bytes = Self.header(familyTransport: 0x11, block: Self.ipv4Block + [0x01, 0x00, 0x02, 0x68, 0x32])
        for count in 0..<bytes.count {
            #expect(try ProxyHeaderParser.parse(bytes.prefix(count)) == nil, "prefix of \(count) bytes")
        }
        #expect(try ProxyHeaderParser.parse(bytes) != nil)
    }

    @Test func wrongSignatureFailsAtTheFirstDifferingByte() {
        var bytes = Self.header(familyTransport: 0x11, block: Self.ipv4Block)
        bytes[5] = 0x0E
        #expect(throws: ProxyProtocolError.wrongSignature(offset: 5)) { try ProxyHeaderParser.parse(bytes) }
        // A TLS ClientHello sent without the header fails at once, before more bytes arrive.
        #expect(throws: ProxyProtocolError.wrongSignature(offset: 0)) { try ProxyHeaderParser.parse([0x16, 0x03]) }
    }

    @Test func version1TextHeaderIsRefused() throws {
        let text = Array("PROXY TCP4 203.0.113.7 10.0.0.1 50000 443\r\n".utf8)
        #expect(throws: ProxyProtocolError.version1Header) { try ProxyHeaderParser.parse(text) }
        #expect(try ProxyHeaderParser.parse(Array("PROX".utf8)) == nil)
    }

    @Test func badVersionCommandFamilyTransport() {
        #expect(throws: ProxyProtocolError.unsupportedVersion(1)) {
            try ProxyHeaderParser.parse(Self.header(versionCommand: 0x11, familyTransport: 0x11, block: Self.ipv4Block))
        }
        #expect(throws: ProxyProtocolError.unsupportedCommand(2)) {
            try ProxyHeaderParser.parse(Self.header(versionCommand: 0x22, familyTransport: 0x11, block: Self.ipv4Block))
        }
        #expect(throws: ProxyProtocolError.unsupportedFamily(4)) {
            try ProxyHeaderParser.parse(Self.header(familyTransport: 0x41, block: Self.ipv4Block))
        }
        #expect(throws: ProxyProtocolError.unsupportedTransport(2)) {
            try ProxyHeaderParser.parse(Self.header(familyTransport: 0x12, block: Self.ipv4Block))
        }
    }

    @Test func addressBlockShorterThanTheFamilyNeeds() {
        #expect(throws: ProxyProtocolError.addressBlockTooShort(family: "INET6", expected: 36, actual: 12)) {
            try ProxyHeaderParser.parse(Self.header(familyTransport: 0x21, block: Self.ipv4Block))
        }
    }

    @Test func declaredLengthOverTheLimitIsRefusedBeforeBuffering() {
        let bytes = Self.signature + [0x21, 0x11, 0xFF, 0xFF]
        #expect(throws: ProxyProtocolError.headerTooLong(declared: 65535, limit: ProxyHeaderParser.maximumAddressBlockLength)) {
            try ProxyHeaderParser.parse(bytes)
        }
    }
}
