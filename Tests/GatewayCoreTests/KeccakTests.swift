import Foundation
import Testing

@testable import GatewayCore

@Suite struct KeccakTests {
    // Expected digests from the Keccak team's reference values and pycryptodome's keccak (an
    // independent implementation), including both sides of the 136-byte rate.
    static func pattern(_ n: Int) -> [UInt8] { (0..<n).map { UInt8($0 % 251) } }

    @Test(arguments: [
        ([UInt8](), "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"),
        (Array("abc".utf8), "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45"),
        (Array("The quick brown fox jumps over the lazy dog".utf8), "4d741b6f1eb29cb2a9b9911c82f56fa8d73b04959d3d9d222895df6c0b28aa15"),
        ([UInt8](repeating: 0xA3, count: 200), "3a57666b048777f2c953dc4456f45a2588e1cb6f2da760122d530ac2ce607d4a"),
        (pattern(135), "cbdfd9dee5faad3818d6b06f95a219fd290b0e1706f6a82e5a595b9ce9faca62"),
        (pattern(136), "7ce759f1ab7f9ce437719970c26b0a66ff11fe3e38e17df89cf5d29c7d7f807e"),
        (pattern(137), "ac73d4fae68b8453f764007c1a20ce95994187861f0c3227a3a8e99a73a3b1db"),
        (pattern(272), "8e2476e65823b24d96ebe239f2c1534cdf763e689e2410c3b1cb0c74e6177bfc"),
        (pattern(273), "3f02f134370e4debb95140ef49ddd3aed8c65ff1ed83a43f1b269421f179c5f9"),
    ])
    func knownDigests(input: [UInt8], expected: String) {
        #expect(Keccak256.hash(input).hex == expected)
    }

    @Test func millionAs() {
        #expect(Keccak256.hash([UInt8](repeating: 0x61, count: 1_000_000)).hex == "fadae6b49f129bbb812be8407b7b2894f34aecf6dbd1f9b0f0c7e9853098fc96")
    }

    @Test func incrementalUpdatesMatchOneShot() {
        var generator = SystemRandomNumberGenerator()
        let input = (0..<1000).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let expected = Keccak256.hash(input)
        for _ in 0..<50 {
            var hasher = Keccak256()
            var offset = 0
            while offset < input.count {
                let take = Int.random(in: 0...150, using: &generator)
                let end = min(input.count, offset + take)
                hasher.update(input[offset..<end])
                offset = end
            }
            #expect(hasher.finalize() == expected)
        }
    }

    @Test func isNotSHA3() {
        // SHA3-256("") differs; a mix-up here would silently break every verifier.
        #expect(Keccak256.hash([UInt8]()).hex != "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a")
    }

    @Test func digestParsing() {
        let hex = "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
        #expect(Keccak256Digest(hex: hex)?.hex == hex)
        #expect(Keccak256Digest(hex: "0x" + hex)?.hex == hex)
        #expect(Keccak256Digest(hex: String(hex.dropLast(2))) == nil)
        #expect(Keccak256Digest(hex: hex.replacingOccurrences(of: "c", with: "g")) == nil)
        #expect(Keccak256Digest(bytes: [1, 2, 3]) == nil)
    }

    @Test func hexErrorsNameTheProblem() {
        #expect(throws: Hex.DecodingError.oddLength(3)) { try Hex.decode("abc") }
        #expect(throws: Hex.DecodingError.invalidCharacter("z", offset: 3)) { try Hex.decode("0x0z") }
        #expect((try? Hex.decode("0xABcd")) == [0xAB, 0xCD])
    }
}
