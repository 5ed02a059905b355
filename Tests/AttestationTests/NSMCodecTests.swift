import Foundation
import Testing

@testable import Attestation

/// Exact bytes of the nsm-api serde encoding (hand-assembled from the CBOR spec: `a1` = map
/// of one, `6b` = text of 11, `f6` = null, …) so a change in key names, order or null handling
/// cannot slip through.
@Suite struct NSMCodecTests {
    static func hex(_ text: String) throws -> [UInt8] { try RealDocument.hex(text) }

    @Test func getRandomIsABareString() throws {
        #expect(NSMRequest.getRandom.encoded() == (try Self.hex("6947657452616e646f6d")))
    }

    @Test func describePCRIsAStructVariant() throws {
        // {"DescribePCR": {"index": 3}}
        #expect(
            NSMRequest.describePCR(index: 3).encoded() == (try Self.hex("a16b4465736372696265504352a165696e64657803")))
        // index 300 needs a two-byte argument
        #expect(NSMRequest.describePCR(index: 300).encoded().suffix(3) == [0x19, 0x01, 0x2c])
    }

    @Test func attestationKeepsFieldOrderAndNulls() throws {
        // {"Attestation": {"user_data": null, "nonce": h'0102', "public_key": null}}
        let expected = try Self.hex(
            "a1" + "6b4174746573746174696f6e" + "a3" + "69757365725f64617461" + "f6" + "656e6f6e6365" + "420102"
                + "6a7075626c69635f6b6579" + "f6"
        )
        #expect(NSMRequest.attestation(userData: nil, nonce: [1, 2], publicKey: nil).encoded() == expected)
        let full = NSMRequest.attestation(userData: [9], nonce: [], publicKey: [7, 7]).encoded()
        #expect(
            full.range(
                of: try Self.hex(
                    "69757365725f64617461" + "4109" + "656e6f6e6365" + "40" + "6a7075626c69635f6b6579" + "420707"))
                != nil)
    }

    @Test func decodesEachResponse() throws {
        // {"Attestation": {"document": h'd284'}}
        #expect(
            try NSMResponse(decoding: try Self.hex("a16b4174746573746174696f6ea168646f63756d656e7442d284"))
                == .attestation(document: [0xd2, 0x84])
        )
        // {"DescribePCR": {"lock": true, "data": h'00…' (48)}}
        let describe = try Self.hex(
            "a16b4465736372696265504352a2646c6f636bf56464617461" + "5830" + String(repeating: "00", count: 48))
        #expect(try NSMResponse(decoding: describe) == .describePCR(lock: true, data: [UInt8](repeating: 0, count: 48)))
        // {"GetRandom": {"random": h'0102'}}
        #expect(
            try NSMResponse(decoding: try Self.hex("a16947657452616e646f6da16672616e646f6d420102"))
                == .getRandom(random: [1, 2])
        )
        // {"Error": "InvalidIndex"}
        #expect(
            try NSMResponse(decoding: try Self.hex("a1654572726f726c496e76616c6964496e646578")) == .error(.invalidIndex)
        )
    }

    @Test func rejectsMalformedResponses() throws {
        let cases: [(String, String)] = [
            (
                "a16b4174746573746174696f6ea168646f63756d656e7463616263",
                "Attestation.document is missing or not a byte string"
            ),
            ("a1654572726f72644e6f7065", "Error carries an unknown code (text string)"),
            ("a163466f6fa0", "unknown response variant \"Foo\""),
            ("6947657452616e646f6d", "expected a map with one variant name, found text string"),
            ("a16b4465736372696265504352a16464617461420102", "DescribePCR.lock is missing or not a boolean"),
        ]
        for (hex, reason) in cases {
            #expect(throws: NSMError.malformedResponse(reason), "\(hex)") {
                try NSMResponse(decoding: try Self.hex(hex))
            }
        }
        #expect(throws: NSMError.malformedResponse("truncated data item at offset 1: need 1 bytes, 0 left")) {
            try NSMResponse(decoding: [0xa1])
        }
    }

    /// `_IOWR(0x0A, 0, struct nsm_raw)` with a 32-byte `nsm_raw`, as <linux/nsm.h> defines it.
    @Test func ioctlNumberMatchesTheDriver() {
        #expect(NSMDevice.ioctlRequest == 0xC020_0A00)
        #expect(NSMDevice.responseCapacity == 0x3000)
    }

    @Test func missingDeviceIsATypedError() {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("no-nsm-\(UUID().uuidString)").path
        #expect(throws: NSMError.deviceUnavailable(path: path, errno: ENOENT)) { try NSMDevice(path: path) }
        #expect(
            "\(NSMError.deviceUnavailable(path: path, errno: ENOENT))".contains("not running inside a Nitro Enclave"))
    }

    /// Opening a regular file succeeds, but the ioctl is refused (ENOTTY): the client surfaces
    /// the errno instead of decoding garbage.
    @Test func ioctlOnANonDeviceFails() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("fake-nsm-\(UUID().uuidString)")
        try Data().write(to: path)
        defer { try? FileManager.default.removeItem(at: path) }
        let device = try NSMDevice(path: path.path)
        #expect(throws: NSMError.ioctlFailed(errno: ENOTTY)) { try device.getRandom() }
    }
}
