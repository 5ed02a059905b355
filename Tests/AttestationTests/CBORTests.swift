import Attestation
import Testing

@Suite struct CBORTests {
    /// RFC 8949 Appendix A examples (hex → value), for the types NSM uses.
    static let appendixA: [(String, CBOR)] = [
        ("00", .unsigned(0)), ("17", .unsigned(23)), ("1818", .unsigned(24)), ("1903e8", .unsigned(1000)),
        ("1a000f4240", .unsigned(1_000_000)), ("1b000000e8d4a51000", .unsigned(1_000_000_000_000)),
        ("1bffffffffffffffff", .unsigned(UInt64.max)), ("20", .integer(-1)), ("3863", .integer(-100)),
        ("3bffffffffffffffff", .negative(UInt64.max)), ("f4", .bool(false)), ("f5", .bool(true)), ("f6", .null),
        ("f7", .undefined), ("40", .bytes([])), ("4401020304", .bytes([1, 2, 3, 4])), ("60", .text("")),
        ("6161", .text("a")), ("62225c", .text("\"\\")), ("63e6b0b4", .text("水")), ("80", .array([])),
        ("83010203", .array([.unsigned(1), .unsigned(2), .unsigned(3)])),
        ("a201020304", .map([CBORMapEntry(.unsigned(1), .unsigned(2)), CBORMapEntry(.unsigned(3), .unsigned(4))])),
        ("c11a514b67b0", .tagged(1, .unsigned(1_363_896_240))),
        ("d82076687474703a2f2f7777772e6578616d706c652e636f6d", .tagged(32, .text("http://www.example.com"))),
    ]

    @Test(arguments: appendixA.indices)
    func decodesAndReencodesAppendixA(index: Int) throws {
        let (hex, value) = Self.appendixA[index]
        let bytes = try RealDocument.hex(hex)
        #expect(try CBORDecoder.decode(bytes) == value)
        #expect(value.encoded() == bytes)
    }

    /// RFC 8949 Appendix A indefinite-length examples decode to their definite equivalents.
    @Test func decodesIndefiniteLengthItems() throws {
        let cases: [(String, CBOR)] = [
            ("5f42010243030405ff", .bytes([1, 2, 3, 4, 5])),
            ("7f657374726561646d696e67ff", .text("streaming")),
            ("9fff", .array([])),
            (
                "9f018202039f0405ffff",
                .array([.unsigned(1), .array([.unsigned(2), .unsigned(3)]), .array([.unsigned(4), .unsigned(5)])])
            ),
            (
                "bf61610161629f0203ffff",
                .map([
                    CBORMapEntry(.text("a"), .unsigned(1)),
                    CBORMapEntry(.text("b"), .array([.unsigned(2), .unsigned(3)])),
                ])
            ),
        ]
        for (hex, value) in cases { #expect(try CBORDecoder.decode(try RealDocument.hex(hex)) == value, "\(hex)") }
    }

    @Test func rejectsMalformedIndefiniteLengthItems() throws {
        let cases: [(String, CBORError)] = [
            ("9f0102", .truncated(what: "indefinite-length array", offset: 0, needed: 1, available: 0)),
            ("5f4101", .truncated(what: "indefinite-length byte string", offset: 0, needed: 1, available: 0)),
            ("5f6161ff", .invalidChunk(what: "byte string", offset: 1)),
            ("5f5fffff", .invalidChunk(what: "byte string", offset: 1)),
            ("ff", .unexpectedBreak(offset: 0)),
            ("1f", .indefiniteLengthNotAllowed(what: "unsigned integer", offset: 0)),
            ("df00", .indefiniteLengthNotAllowed(what: "tag", offset: 0)),
            ("bf01ff", .unexpectedBreak(offset: 2)),
        ]
        for (hex, error) in cases {
            #expect(throws: error, "\(hex)") { try CBORDecoder.decode(try RealDocument.hex(hex)) }
        }
    }

    @Test func shortestHeadsAtEveryBoundary() {
        let boundaries: [(UInt64, Int)] = [
            (23, 1), (24, 2), (255, 2), (256, 3), (65535, 3), (65536, 5), (0xffff_ffff, 5), (0x1_0000_0000, 9),
        ]
        for (value, size) in boundaries {
            let encoded = CBOR.unsigned(value).encoded()
            #expect(encoded.count == size, "\(value)")
            #expect((try? CBORDecoder.decode(encoded)) == .unsigned(value))
        }
        #expect(CBOR.integer(-35).encoded() == [0x38, 0x22])
        #expect(CBOR.integer(-24).encoded() == [0x37])
        #expect(CBOR.integer(Int64.min).encoded() == [0x3b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])
    }

    @Test func truncationNamesTheOffsetAndCounts() {
        let input: [UInt8] = [0x82, 0x01, 0x58, 0x30] + [UInt8](repeating: 0xaa, count: 10)
        #expect(throws: CBORError.truncated(what: "byte string", offset: 2, needed: 48, available: 10)) {
            try CBORDecoder.decode(input)
        }
        #expect(
            CBORError.truncated(what: "byte string", offset: 1234, needed: 48, available: 10).description
                == "truncated byte string at offset 1234: need 48 bytes, 10 left"
        )
        #expect(throws: CBORError.truncated(what: "header", offset: 0, needed: 2, available: 1)) {
            try CBORDecoder.decode([0x19, 0x01])
        }
    }

    /// Every proper prefix of a real document (whose payload is an indefinite-length map) fails
    /// with an error, never a crash, both for the envelope and for the payload.
    @Test func everyPrefixOfARealDocumentIsRejected() throws {
        let document = try RealDocument(name: "epsilon-nitro-verify-2026-02-06")
        let payload = try COSESign1(decoding: document.bytes).payload
        #expect(payload.first == 0xbf)
        for input in [document.bytes, payload] {
            #expect(throws: Never.self) { try CBORDecoder.decode(input) }
            for length in 0..<input.count {
                #expect(throws: CBORError.self) { try CBORDecoder.decode(Array(input[..<length])) }
            }
        }
    }

    @Test func depthLimit() throws {
        let limits = CBORLimits(maxDepth: 4)
        let atLimit: [UInt8] = [UInt8](repeating: 0x81, count: 4) + [0x00]
        #expect(throws: Never.self) { try CBORDecoder.decode(atLimit, limits: limits) }
        #expect(throws: CBORError.depthLimitExceeded(limit: 4, offset: 5)) {
            try CBORDecoder.decode([UInt8](repeating: 0x81, count: 5) + [0x00], limits: limits)
        }
        // A deeply nested hostile input stops at the default limit instead of exhausting the stack.
        #expect(throws: CBORError.depthLimitExceeded(limit: 16, offset: 17)) {
            try CBORDecoder.decode([UInt8](repeating: 0x9f, count: 60_000))
        }
    }

    @Test func sizeItemAndLengthLimits() throws {
        #expect(throws: CBORError.totalSizeLimitExceeded(size: 11, limit: 10)) {
            try CBORDecoder.decode([0x4a] + [UInt8](repeating: 0, count: 10), limits: CBORLimits(maxTotalSize: 10))
        }
        #expect(throws: CBORError.itemLimitExceeded(limit: 3, offset: 3)) {
            try CBORDecoder.decode([0x83, 0x01, 0x02, 0x03], limits: CBORLimits(maxItems: 3))
        }
        #expect(throws: CBORError.lengthLimitExceeded(what: "byte string", length: 9, limit: 8, offset: 0)) {
            try CBORDecoder.decode([0x49] + [UInt8](repeating: 0, count: 9), limits: CBORLimits(maxLength: 8))
        }
        // A huge declared length fails on the limit, before any allocation.
        #expect(throws: CBORError.lengthLimitExceeded(what: "array", length: UInt64.max, limit: 16384, offset: 0)) {
            try CBORDecoder.decode([0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])
        }
        #expect(throws: CBORError.lengthLimitExceeded(what: "map", length: 3, limit: 2, offset: 0)) {
            try CBORDecoder.decode(try RealDocument.hex("bf010203040506ff"), limits: CBORLimits(maxLength: 2))
        }
    }

    @Test func rejectsTrailingBytes() {
        #expect(throws: CBORError.trailingBytes(offset: 1, count: 2)) { try CBORDecoder.decode([0x01, 0x02, 0x03]) }
    }

    @Test func rejectsWhatNSMNeverSends() throws {
        let cases: [(String, CBORError)] = [
            ("f93c00", .floatNotSupported(offset: 0)),
            ("fb3ff199999999999a", .floatNotSupported(offset: 0)),
            ("f0", .unsupportedSimpleValue(16, offset: 0)),
            ("f820", .unsupportedSimpleValue(32, offset: 0)),
            ("1c", .reservedAdditionalInfo(28, offset: 0)),
            ("fe", .reservedAdditionalInfo(30, offset: 0)),
            ("62c328", .invalidUTF8(offset: 0)),
            ("a2616101616102", .duplicateMapKey(offset: 4)),
        ]
        for (hex, error) in cases {
            #expect(throws: error, "\(hex)") { try CBORDecoder.decode(try RealDocument.hex(hex)) }
        }
    }

    @Test func mapsKeepWireOrderAndSubscriptFindsTextKeys() throws {
        let map = CBOR.map([CBORMapEntry(.text("z"), .unsigned(1)), CBORMapEntry(.text("a"), .unsigned(2))])
        #expect(map.encoded() == (try RealDocument.hex("a2617a01616102")))
        #expect(map["a"] == .unsigned(2))
        #expect(map["missing"] == nil)
        #expect(CBOR.unsigned(1)["a"] == nil)
    }
}
