import Testing

@testable import OHTTP

@Suite struct QUICVarintTests {
    @Test func everyVectorEncodesAndDecodes() throws {
        let vectors = try OHTTPVectors.load().varints
        #expect(vectors.count == 9)
        for (decimal, encodedHex) in vectors {
            let value = try #require(UInt64(decimal))
            let encoded = try hex(encodedHex)
            #expect(try QUICVarint.encode(value) == encoded, "encode \(value)")
            let decoded = try QUICVarint.decode(encoded + [0xAA], at: 0)
            #expect(decoded.value == value && decoded.length == encoded.count, "decode \(encodedHex)")
        }
    }

    @Test func encodingAboveTwoToTheSixtyTwoIsRejected() {
        #expect(throws: QUICVarint.ValueTooLarge(value: 1 << 62)) { try QUICVarint.encode(1 << 62) }
        #expect(throws: QUICVarint.ValueTooLarge(value: .max)) { try QUICVarint.encode(.max) }
    }

    @Test func nonMinimalEncodingsDecode() throws {
        #expect(try QUICVarint.decode([0x40, 0x25], at: 0) == (0x25, 2))
        #expect(try QUICVarint.decode([0xC0, 0, 0, 0, 0, 0, 0, 0x25], at: 0) == (0x25, 8))
    }

    @Test func truncationReportsFieldOffsetAndSizes() {
        #expect(throws: Truncation(field: "content length", offset: 2, needed: 4, available: 3)) {
            try QUICVarint.decode([0, 0, 0x80, 0, 0], at: 2, field: "content length")
        }
        #expect(throws: Truncation(field: "varint", offset: 1, needed: 1, available: 0)) {
            try QUICVarint.decode([0x25], at: 1)
        }
        #expect(throws: Truncation(field: "varint", offset: 5, needed: 1, available: 0)) {
            try QUICVarint.decode([0x25], at: 5)
        }
    }

    @Test func everyTruncationOfEveryLengthClassThrows() throws {
        for value: UInt64 in [63, 16383, 1_073_741_823, QUICVarint.maxValue] {
            let encoded = try QUICVarint.encode(value)
            for cut in 0..<encoded.count {
                #expect(throws: Truncation.self) { try QUICVarint.decode(Array(encoded[..<cut]), at: 0) }
            }
        }
    }
}
