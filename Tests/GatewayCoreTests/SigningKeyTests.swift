import Foundation
import Testing

@testable import GatewayCore

@Suite struct SigningKeyTests {
    static let key: InferenceSigningKey = try! InferenceSigningKey.generate()

    func sample() throws -> TEESignature {
        try Self.key.sign(requestHash: Keccak256.hash("request".utf8), outputHash: OutputHash.text("answer"), timestamp: 1_747_000_000)
    }

    @Test func signsAndVerifies() throws {
        let signature = try sample()
        #expect(signature.signature.count == 256)
        #expect(Self.key.publicKey.verify(signature) == .valid)
        #expect(signature.teeID == TEEID(spkiDER: Self.key.publicKey.spkiDER))
    }

    @Test func saltIsRandom() throws {
        #expect(try sample().signature != sample().signature)
    }

    @Test func everyFieldIsCovered() throws {
        let good = try sample()
        var wrongRequest = good
        wrongRequest.requestHash = Keccak256.hash("other".utf8)
        var wrongOutput = good
        wrongOutput.outputHash = OutputHash.text("answer!")
        var wrongTime = good
        wrongTime.timestamp += 1
        var wrongBytes = good
        wrongBytes.signature[0] ^= 0x80
        for bad in [wrongRequest, wrongOutput, wrongTime, wrongBytes] { #expect(Self.key.publicKey.verify(bad) == .badSignature) }
        var otherTEE = good
        otherTEE.teeID = TEEID(digest: Keccak256.hash("x".utf8))
        #expect(Self.key.publicKey.verify(otherTEE) == .wrongTEEID(expected: good.teeID, got: otherTEE.teeID))
    }

    @Test func responseFieldsRoundTrip() throws {
        let signature = try sample()
        var object = JSONObject([("id", "chatcmpl-1")])
        signature.attach(to: &object)
        let text = JSONWriter.string(.object(object), style: .compact)
        #expect(text.contains(#""tee_timestamp":1747000000"#))
        #expect(text.contains(#""tee_id":"0x"#))
        let base64 = try #require(object["tee_signature"]?.stringValue)
        #expect(base64.count == 344 && base64.hasSuffix("="))
        #expect(try TEESignature(response: parse(text)) == signature)
    }

    @Test func malformedResponseFieldsAreNamed() throws {
        let good = try sample()
        var object = JSONObject()
        good.attach(to: &object)
        let cases: [(String, JSONValue?, String)] = [
            ("tee_signature", nil, "response has no 'tee_signature'"),
            ("tee_signature", "***", "'tee_signature' is not valid base64"),
            ("tee_request_hash", "abc", "'tee_request_hash' is not 64 hex digits"),
            ("tee_output_hash", 5, "'tee_output_hash' must be a string, not integer"),
            ("tee_id", .string(good.teeID.digest.hex), "'tee_id' is not 0x followed by 64 hex digits"),
            ("tee_timestamp", -1, "'tee_timestamp' must be a non-negative integer"),
            ("tee_timestamp", 1.5, "'tee_timestamp' must be a non-negative integer"),
        ]
        for (field, value, message) in cases {
            var broken = object
            broken[field] = value
            #expect(throws: InvalidRequest(message, param: field)) { try TEESignature(response: .object(broken)) }
        }
    }

    @Test func pemRoundTripAndRejections() throws {
        let pem = Self.key.publicKey.pem
        #expect(pem.hasPrefix("-----BEGIN PUBLIC KEY-----\n") && pem.hasSuffix("-----END PUBLIC KEY-----\n"))
        #expect(try InferenceVerifyingKey(pem: pem).teeID == Self.key.teeID)
        #expect(throws: SigningError.self) { try InferenceVerifyingKey(pem: "not a key") }
        #expect(throws: SigningError.self) { try InferenceVerifyingKey(spkiDER: [0x30, 0x00]) }
    }
}
