import Testing

@testable import TLSFrontKit

@Suite("attestation nonce parameter")
struct NonceParameterTests {
    @Test(arguments: [
        (String(repeating: "ab", count: 20), [UInt8](repeating: 0xAB, count: 20)),  // nitriding's 40 digits
        (String(repeating: "AB", count: 20), [UInt8](repeating: 0xAB, count: 20)),
        (String(repeating: "0f", count: 64), [UInt8](repeating: 0x0F, count: 64)),
        ("00112233445566778899aAbBcCdDeEfF00112233", [0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF, 0x00, 0x11, 0x22, 0x33]),
    ])
    func accepted(text: String, bytes: [UInt8]) throws {
        #expect(try NonceParameter.parse(text).bytes == bytes)
    }

    @Test(arguments: [
        (nil, NonceParameterError.missing),
        ("", .missing),
        (String(repeating: "a", count: 41), .oddLength(digits: 41)),
        (String(repeating: "ab", count: 19), .wrongLength(digits: 38)),
        (String(repeating: "ab", count: 65), .wrongLength(digits: 130)),
        (String(repeating: "ab", count: 19) + "zz", .notHex(offset: 38)),
        ("0x" + String(repeating: "ab", count: 20), .notHex(offset: 1)),
        (String(repeating: "ab", count: 19) + "a ", .notHex(offset: 39)),
    ] as [(String?, NonceParameterError)])
    func refused(text: String?, expected: NonceParameterError) {
        #expect(throws: expected) { try NonceParameter.parse(text) }
    }

    @Test func messagesStateTheAcceptedRange() {
        #expect(NonceParameterError.wrongLength(digits: 38).description.contains("40 to 128 hex digits"))
        #expect(NonceParameterError.notHex(offset: 3).description.contains("offset 3"))
    }
}
