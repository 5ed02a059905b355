import Crypto
import Foundation
import Testing

@testable import GatewayCore

/// The signed host control command (docs/wire-contracts.md). The vector was computed with
/// Python's `cryptography` (an independent Ed25519 and an independent byte layout):
/// seed 00 01 … 1f, tee_id 0xab…ab, counter 1765065600123, command `scale 3`.
@Suite struct SignedControlCommandTests {
    static let key = try! Curve25519.Signing.PrivateKey(rawRepresentation: Array(0..<32) as [UInt8])
    static let teeID = TEEID(digest: Keccak256Digest(hex: String(repeating: "ab", count: 32))!)
    static let counter: UInt64 = 1_765_065_600_123
    static let message =
        "656e636c6176652d676174657761792f636f6e74726f6c2f763100abababababababababababababababababababababababababababababababab"
        + "0000019af61bac7b7363616c652033"
    static let signature = "xEoU97I4T/luemn/cED9PklwConFyykeIjS1EpxvcjyR+69wmaCJoYTlevQ1j2tETeuOsqbW/+QufhX/SWmzBA=="

    @Test func matchesTheIndependentVector() throws {
        #expect(Hex.encode(Self.key.publicKey.rawRepresentation) == "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8")
        #expect(Hex.encode(SignedControlCommand.signedMessage(command: "scale 3", teeID: Self.teeID, counter: Self.counter)) == Self.message)
        let signed = try SignedControlCommand.sign("scale   3", teeID: Self.teeID, counter: Self.counter, key: Self.key)
        #expect(signed.line == "signed 1765065600123 \(Self.signature) scale 3", "Ed25519 is deterministic, whitespace normalized")
        let parsed = try #require(try SignedControlCommand(parsingLine: signed.line))
        #expect(parsed == signed)
        #expect(parsed.isSigned(by: OperatorKey(Self.key.publicKey), for: Self.teeID))
    }

    @Test func aSignatureCoversCommandTeeIDAndCounter() throws {
        let signed = try SignedControlCommand.sign("scale 3", teeID: Self.teeID, counter: Self.counter, key: Self.key)
        let key = OperatorKey(Self.key.publicKey)
        let otherTee = TEEID(digest: Keccak256.hash([1]))
        #expect(!signed.isSigned(by: key, for: otherTee))
        #expect(!SignedControlCommand(command: "scale 30", counter: Self.counter, signature: signed.signature).isSigned(by: key, for: Self.teeID))
        #expect(!SignedControlCommand(command: "scale 3", counter: Self.counter + 1, signature: signed.signature).isSigned(by: key, for: Self.teeID))
        #expect(!signed.isSigned(by: OperatorKey(Curve25519.Signing.PrivateKey().publicKey), for: Self.teeID))
    }

    @Test func unsignedLinesAreNotSignedCommandsAndBrokenOnesSayWhy() throws {
        #expect(try SignedControlCommand(parsingLine: "scale 3") == nil)
        #expect(try SignedControlCommand(parsingLine: "status") == nil)
        #expect(throws: SignedControlCommandError.self) { try SignedControlCommand(parsingLine: "signed 1 AAAA") }
        #expect(throws: SignedControlCommandError.self) { try SignedControlCommand(parsingLine: "signed x \(Self.signature) scale 3") }
        #expect(throws: SignedControlCommandError.self) { try SignedControlCommand(parsingLine: "signed 1 not*base64 scale 3") }
        #expect(throws: SignedControlCommandError.self) { try SignedControlCommand(parsingLine: "signed 1 AAAA scale 3") }
        #expect(throws: SignedControlCommandError.self) {
            try SignedControlCommand(parsingLine: "signed 99999999999999999999999 \(Self.signature) scale 3")
        }
    }
}
