#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import GatewayCore
import NIOCore

/// The key-service messages a request pays for, written and read without Foundation's JSON
/// coders, in exactly the bytes `KeyServiceCodec`'s general path produces (sorted keys, padded
/// base64; the tests compare the two byte for byte): `signInference`, once per signed answer,
/// and `ohttpOpen`, once per Oblivious HTTP request.
///
/// Why: decoding and encoding these messages with `JSONDecoder`/`JSONEncoder` was the largest
/// item after the signature itself in the profile: 6–9% of key-service's CPU and 7% of a
/// worker's for `signInference`, and about 9% of a worker's on the OHTTP path for `ohttpOpen`
/// (docs/performance.md). Reading accepts only those exact layouts, with every value in range;
/// anything else (other key order, whitespace, escapes, id 0 in a request, wrong lengths)
/// returns nil and goes through the general, strict decoder, which keeps its error messages.
enum HotPathWire {
    /// The request in the general path's bytes, or nil for an operation without a fast path.
    static func encode(_ request: KeyServiceRequest, id: UInt64) -> ByteBuffer? {
        var writer = Writer()
        switch request {
        case .signInference(let requestHash, let outputHash):
            writer.unsigned("id", id)
            writer.bytes("outputHash", outputHash.bytes)
            writer.bytes("requestHash", requestHash.bytes)
        case .ohttpOpen(let encapsulatedRequest, let chunked):
            writer.bool("chunked", chunked)
            writer.bytes("encapsulatedRequest", encapsulatedRequest)
            writer.unsigned("id", id)
        default:
            return nil
        }
        return writer.finish(request.operation)
    }

    /// The successful answer in the general path's bytes, or nil for one without a fast path.
    static func encode(_ response: KeyServiceResponse, id: UInt64) -> ByteBuffer? {
        var writer = Writer()
        switch response {
        case .signInference(let signature):
            writer.unsigned("id", id)
            writer.bytes("outputHash", signature.outputHash.bytes)
            writer.bytes("requestHash", signature.requestHash.bytes)
            writer.bytes("signature", signature.signature)
            writer.bytes("teeID", signature.teeID.digest.bytes)
            writer.unsigned("timestamp", signature.timestamp)
            return writer.finish(.signInference)
        case .ohttpOpen(let opened):
            writer.unsigned("aeadID", UInt64(opened.aeadID))
            writer.bytes("chunkedResponseSecret", opened.chunkedResponseSecret)
            writer.bytes("encapsulatedKey", opened.encapsulatedKey)
            writer.unsigned("id", id)
            writer.unsigned("kdfID", UInt64(opened.kdfID))
            writer.unsigned("kemID", UInt64(opened.kemID))
            writer.bytes("plaintext", opened.plaintext)
            writer.bytes("responseSecret", opened.responseSecret)
            return writer.finish(.ohttpOpen)
        default:
            return nil
        }
    }

    /// A request in one of the exact layouts `encode` writes, else nil.
    static func decodeRequest(_ payload: ByteBuffer) -> (id: UInt64, request: KeyServiceRequest)? {
        var reader = Reader(payload)
        if reader.key("id"), let id = reader.unsigned(), id != 0,
           reader.key("outputHash"), let output = reader.digest(),
           reader.key("requestHash"), let request = reader.digest(),
           reader.end(.signInference)
        {
            return (id, .signInference(requestHash: request, outputHash: output))
        }
        reader = Reader(payload)
        if reader.key("chunked"), let chunked = reader.bool(),
           reader.key("encapsulatedRequest"), let encapsulated = reader.bytes(Limits.encapsulatedRequest),
           reader.key("id"), let id = reader.unsigned(), id != 0,
           reader.end(.ohttpOpen)
        {
            return (id, .ohttpOpen(encapsulatedRequest: encapsulated, chunked: chunked))
        }
        return nil
    }

    /// A successful answer in one of the exact layouts `encode` writes, else nil.
    static func decodeResponse(_ payload: ByteBuffer) -> (id: UInt64, response: KeyServiceResponse)? {
        var reader = Reader(payload)
        if reader.key("id"), let id = reader.unsigned(),
           reader.key("outputHash"), let output = reader.digest(),
           reader.key("requestHash"), let request = reader.digest(),
           reader.key("signature"), let signature = reader.bytes(Limits.signature),
           reader.key("teeID"), let teeID = reader.digest(),
           reader.key("timestamp"), let timestamp = reader.unsigned(),
           reader.end(.signInference)
        {
            let value = TEESignature(requestHash: request, outputHash: output, timestamp: timestamp, signature: signature, teeID: TEEID(digest: teeID))
            return (id, .signInference(value))
        }
        reader = Reader(payload)
        if reader.key("aeadID"), let aead = reader.uint16(),
           reader.key("chunkedResponseSecret"), let chunkedSecret = reader.bytes(Limits.ohttpSecret),
           reader.key("encapsulatedKey"), let enc = reader.bytes(Limits.ohttpEncapsulatedKey),
           reader.key("id"), let id = reader.unsigned(),
           reader.key("kdfID"), let kdf = reader.uint16(),
           reader.key("kemID"), let kem = reader.uint16(),
           reader.key("plaintext"), let plaintext = reader.bytes(Limits.ohttpPlaintext),
           reader.key("responseSecret"), let secret = reader.bytes(Limits.ohttpSecret),
           reader.end(.ohttpOpen)
        {
            let opened = OpenedOHTTPRequest(
                plaintext: plaintext, encapsulatedKey: enc, kemID: kem, kdfID: kdf, aeadID: aead,
                responseSecret: secret, chunkedResponseSecret: chunkedSecret)
            return (id, .ohttpOpen(opened))
        }
        return nil
    }

    /// Writes one flat JSON object; the caller names the fields in sorted order, `type` last.
    private struct Writer {
        private var buffer = ByteBuffer()

        private mutating func key(_ name: StaticString) {
            buffer.writeStaticString(buffer.readableBytes == 0 ? "{\"" : ",\"")
            buffer.writeStaticString(name)
            buffer.writeStaticString("\":")
        }

        mutating func unsigned(_ name: StaticString, _ value: UInt64) {
            key(name)
            buffer.writeString(String(value))
        }

        mutating func bool(_ name: StaticString, _ value: Bool) {
            key(name)
            buffer.writeStaticString(value ? "true" : "false")
        }

        mutating func bytes(_ name: StaticString, _ value: [UInt8]) {
            key(name)
            buffer.writeStaticString("\"")
            buffer.writeString(Data(value).base64EncodedString())
            buffer.writeStaticString("\"")
        }

        mutating func finish(_ operation: KeyServiceOperation) -> ByteBuffer {
            buffer.writeStaticString(",\"type\":\"")
            buffer.writeString(operation.rawValue)
            buffer.writeStaticString("\"}")
            return buffer
        }
    }

    /// Reads one flat JSON object in a fixed layout, left to right.
    private struct Reader {
        let bytes: ByteBufferView
        var index: ByteBufferView.Index

        init(_ payload: ByteBuffer) {
            bytes = payload.readableBytesView
            index = bytes.startIndex
        }

        /// `{"name":` for the first field, `,"name":` for the others.
        mutating func key(_ name: String) -> Bool {
            expect(index == bytes.startIndex ? "{\"" : ",\"") && expect(name) && expect("\":")
        }

        /// `,"type":"operation"}` and nothing after it.
        mutating func end(_ operation: KeyServiceOperation) -> Bool {
            expect(",\"type\":\"") && expect(operation.rawValue) && expect("\"}") && index == bytes.endIndex
        }

        private mutating func expect(_ literal: String) -> Bool {
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

        mutating func uint16() -> UInt16? { unsigned().flatMap { UInt16(exactly: $0) } }

        mutating func bool() -> Bool? {
            if expect("true") { return true }
            return expect("false") ? false : nil
        }

        /// A quoted padded base64 string in its canonical form only, decoding to a length in `limit`.
        mutating func bytes(_ limit: ClosedRange<Int>) -> [UInt8]? {
            guard expect("\"") else { return nil }
            let start = index
            while index < bytes.endIndex, bytes[index] != UInt8(ascii: "\"") {
                guard bytes[index].isBase64 else { return nil }
                index += 1
            }
            let text = String(decoding: bytes[start..<index], as: UTF8.self)
            guard expect("\""), let data = Data(base64Encoded: text), limit.contains(data.count),
                  data.base64EncodedString() == text
            else { return nil }
            return Array(data)
        }

        mutating func digest() -> Keccak256Digest? { bytes(32...32).flatMap(Keccak256Digest.init(bytes:)) }
    }
}

private extension UInt8 {
    var isBase64: Bool {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(self) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(self)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self) || self == UInt8(ascii: "+") || self == UInt8(ascii: "/")
            || self == UInt8(ascii: "=")
    }
}
