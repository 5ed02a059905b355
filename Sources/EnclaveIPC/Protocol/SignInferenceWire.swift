#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import GatewayCore
import NIOCore

/// The one request and answer every signed answer costs, `signInference`, written and read
/// without Foundation's JSON coders, in exactly the bytes `KeyServiceCodec`'s general path
/// produces (sorted keys, padded base64; the tests compare the two byte for byte).
///
/// Why: decoding and encoding these two messages with `JSONDecoder`/`JSONEncoder` was the largest
/// item after the signature itself in the profile: 6–9% of key-service's CPU and 7% of a
/// worker's (docs/performance.md). Reading accepts only that exact layout, with every value in
/// range; anything else (other key order, whitespace, escapes, id 0, wrong lengths) returns nil
/// and goes through the general, strict decoder, which keeps its error messages.
enum SignInferenceWire {
    static let type = KeyServiceOperation.signInference.rawValue

    static func encodeRequest(id: UInt64, requestHash: Keccak256Digest, outputHash: Keccak256Digest) -> ByteBuffer {
        var text = #"{"id":"#
        text += String(id)
        text += #","outputHash":""# + base64(outputHash.bytes)
        text += #"","requestHash":""# + base64(requestHash.bytes)
        text += #"","type":""# + type + #""}"#
        return ByteBuffer(string: text)
    }

    static func encodeResponse(id: UInt64, _ signature: TEESignature) -> ByteBuffer {
        var text = #"{"id":"#
        text += String(id)
        text += #","outputHash":""# + base64(signature.outputHash.bytes)
        text += #"","requestHash":""# + base64(signature.requestHash.bytes)
        text += #"","signature":""# + base64(signature.signature)
        text += #"","teeID":""# + base64(signature.teeID.digest.bytes)
        text += #"","timestamp":"# + String(signature.timestamp)
        text += #","type":""# + type + #""}"#
        return ByteBuffer(string: text)
    }

    /// The request in the exact layout `encodeRequest` writes, else nil.
    static func decodeRequest(_ payload: ByteBuffer) -> (id: UInt64, request: KeyServiceRequest)? {
        var reader = Cursor(payload.readableBytesView)
        guard reader.expect(#"{"id":"#), let id = reader.unsigned(), id != 0,
              reader.expect(#","outputHash":""#), let output = reader.digest(),
              reader.expect(#"","requestHash":""#), let request = reader.digest(),
              reader.expect(#"","type":""# + type + #""}"#), reader.atEnd
        else { return nil }
        return (id, .signInference(requestHash: request, outputHash: output))
    }

    /// The successful answer in the exact layout `encodeResponse` writes, else nil.
    static func decodeResponse(_ payload: ByteBuffer) -> (id: UInt64, response: KeyServiceResponse)? {
        var reader = Cursor(payload.readableBytesView)
        guard reader.expect(#"{"id":"#), let id = reader.unsigned(),
              reader.expect(#","outputHash":""#), let output = reader.digest(),
              reader.expect(#"","requestHash":""#), let request = reader.digest(),
              reader.expect(#"","signature":""#), let signature = reader.base64(), Limits.signature.contains(signature.count),
              reader.expect(#"","teeID":""#), let teeID = reader.digest(),
              reader.expect(#"","timestamp":"#), let timestamp = reader.unsigned(),
              reader.expect(#","type":""# + type + #""}"#), reader.atEnd
        else { return nil }
        let value = TEESignature(requestHash: request, outputHash: output, timestamp: timestamp, signature: signature, teeID: TEEID(digest: teeID))
        return (id, .signInference(value))
    }

    private static func base64(_ bytes: [UInt8]) -> String { Data(bytes).base64EncodedString() }

    /// Reads the fixed layout left to right.
    private struct Cursor {
        let bytes: ByteBufferView
        var index: ByteBufferView.Index

        init(_ bytes: ByteBufferView) {
            self.bytes = bytes
            index = bytes.startIndex
        }

        var atEnd: Bool { index == bytes.endIndex }

        mutating func expect(_ literal: String) -> Bool {
            for byte in literal.utf8 {
                guard index < bytes.endIndex, bytes[index] == byte else { return false }
                index += 1
            }
            return true
        }

        /// A JSON integer from 0 to UInt64.max, without leading zeros.
        mutating func unsigned() -> UInt64? {
            let start = index
            var value: UInt64 = 0
            while index < bytes.endIndex, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) {
                let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = times10.addingReportingOverflow(UInt64(bytes[index] - UInt8(ascii: "0")))
                guard !overflow1, !overflow2 else { return nil }
                value = sum
                index += 1
            }
            let digits = index - start
            guard digits > 0, digits == 1 || bytes[start] != UInt8(ascii: "0") else { return nil }
            return value
        }

        /// Padded base64 up to the closing quote (not consumed), in its canonical form only.
        mutating func base64() -> [UInt8]? {
            let start = index
            while index < bytes.endIndex, bytes[index] != UInt8(ascii: "\"") {
                let byte = bytes[index]
                guard byte.isBase64 else { return nil }
                index += 1
            }
            let text = String(decoding: bytes[start..<index], as: UTF8.self)
            guard let data = Data(base64Encoded: text), data.base64EncodedString() == text else { return nil }
            return Array(data)
        }

        mutating func digest() -> Keccak256Digest? { base64().flatMap(Keccak256Digest.init(bytes:)) }
    }
}

private extension UInt8 {
    var isBase64: Bool {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(self) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(self)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self) || self == UInt8(ascii: "+") || self == UInt8(ascii: "/")
            || self == UInt8(ascii: "=")
    }
}
