import Foundation
import GatewayCore
import NIOCore
import Testing

@testable import EnclaveIPC

/// The fast path of `signInference` and `ohttpOpen` writes exactly what the general (Foundation
/// JSON) path writes, reads what either writes, and hands everything outside its layouts to the
/// strict decoder.
@Suite("key-service hot-path wire")
struct HotPathWireTests {
    private func randomDigest() -> Keccak256Digest {
        Keccak256Digest(bytes: (0..<32).map { _ in UInt8.random(in: 0...255) })!
    }

    private func randomSignature(_ count: Int) -> TEESignature {
        TEESignature(
            requestHash: randomDigest(), outputHash: randomDigest(),
            timestamp: [0, 1, 1_714_000_000, UInt64.max, UInt64.random(in: 0...UInt64.max)].randomElement()!,
            signature: (0..<count).map { _ in UInt8.random(in: 0...255) }, teeID: TEEID(digest: randomDigest())
        )
    }

    private func text(_ buffer: ByteBuffer) -> String { String(buffer: buffer) }

    private func randomBytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8.random(in: 0...255) } }

    private func randomOpened(_ round: Int) -> OpenedOHTTPRequest {
        OpenedOHTTPRequest(
            plaintext: randomBytes(round == 0 ? 512 * 1024 : [0, 1, 2, 3, 100, 4096][round % 6]),
            encapsulatedKey: randomBytes([32, 1120][round % 2]),
            kemID: [0x0020, 0x647A, 0, UInt16.max][round % 4], kdfID: [1, 0, UInt16.max][round % 3],
            aeadID: [1, 2, 3, 0xFFFF][round % 4],
            responseSecret: randomBytes([32, 1, 64][round % 3]), chunkedResponseSecret: randomBytes([32, 64, 12][round % 3]))
    }

    /// Fast and general encodings are the same bytes, and each decoder reads the other's.
    private func roundTrip(_ request: KeyServiceRequest, _ response: KeyServiceResponse, id: UInt64) throws {
        let general = try KeyServiceCodec.encodeGenerally(request, id: id)
        let fast = try #require(HotPathWire.encode(request, id: id))
        #expect(text(fast) == text(general))
        let fastRead = try #require(HotPathWire.decodeRequest(general))
        #expect(fastRead.id == id && fastRead.request == request)
        let generalRead = try KeyServiceCodec.decodeGenerally(request: fast)
        #expect(generalRead.id == id && generalRead.request == request)

        let generalAnswer = try KeyServiceCodec.encodeGenerally(response, id: id)
        let fastAnswer = try #require(HotPathWire.encode(response, id: id))
        #expect(text(fastAnswer) == text(generalAnswer))
        let fastAnswerRead = try #require(HotPathWire.decodeResponse(generalAnswer))
        #expect(fastAnswerRead.id == id && fastAnswerRead.response == response)
        let generalAnswerRead = try KeyServiceCodec.decodeGenerally(response: fastAnswer)
        #expect(generalAnswerRead.id == id && generalAnswerRead.response == response)
    }

    /// The strict decoder and the combined one (fast path first) agree on `payload`, and the fast
    /// path declines it.
    private func declined(_ payload: ByteBuffer) {
        let general = Result { try KeyServiceCodec.decodeGenerally(request: payload) }
        #expect(HotPathWire.decodeRequest(payload) == nil, "\(String(buffer: payload))")
        let combined = Result { try KeyServiceCodec.decodeRequest(payload) }
        switch (general, combined) {
        case (.success(let a), .success(let b)): #expect(a.id == b.id && a.request == b.request)
        case (.failure(let a), .failure(let b)): #expect("\(a)" == "\(b)")
        default: Issue.record("the combined decoder disagrees with the strict one on \(String(buffer: payload))")
        }
    }

    @Test func sameBytesAsTheGeneralPathBothWays() throws {
        for round in 0..<300 {
            let id = [1, 2, 42, UInt64.max, UInt64.random(in: 1...UInt64.max)][round % 5]
            try roundTrip(
                .signInference(requestHash: randomDigest(), outputHash: randomDigest()),
                .signInference(randomSignature([256, 1, 1024, 512][round % 4])), id: id)
            try roundTrip(
                .ohttpOpen(encapsulatedRequest: randomBytes(round == 0 ? 512 * 1024 : [1, 2, 3, 200, 1300][round % 5]), chunked: round % 2 == 0),
                .ohttpOpen(randomOpened(round)), id: id)
        }
    }

    @Test func otherOperationsTakeTheGeneralPath() throws {
        #expect(HotPathWire.encode(KeyServiceRequest.health, id: 1) == nil)
        #expect(HotPathWire.encode(KeyServiceRequest.ohttpConfigs, id: 1) == nil)
        let failure = KeyServiceResponse.failure(KeyServiceError(.internalError, "HPKE open failed"))
        #expect(HotPathWire.encode(failure, id: 1) == nil)
        #expect(HotPathWire.decodeResponse(try KeyServiceCodec.encode(failure, id: 1)) == nil)
    }

    @Test func anythingElseGoesToTheStrictDecoderWithItsVerdict() throws {
        // The request hash starts with three 0xFF bytes, "////" in base64, so the escaped-slash
        // variant below always differs from the canonical text.
        let slashed = Keccak256Digest(bytes: [0xFF, 0xFF, 0xFF] + randomDigest().bytes.prefix(29))!
        let request = KeyServiceRequest.signInference(requestHash: slashed, outputHash: randomDigest())
        let canonical = text(try KeyServiceCodec.encode(request, id: 7))
        try #require(canonical.contains("/"))
        let hash31 = Data((0..<31).map { UInt8($0) }).base64EncodedString()
        let variants = [
            canonical.replacingOccurrences(of: ",", with: ", "),  // whitespace
            canonical.replacingOccurrences(of: #"{"id":7"#, with: #"{"id":0"#),  // id 0 is reserved
            canonical.replacingOccurrences(of: #"{"id":7"#, with: #"{"id":07"#),  // not JSON
            canonical.replacingOccurrences(of: #"{"id":7"#, with: #"{"id":18446744073709551616"#),  // past UInt64
            canonical.replacingOccurrences(of: #""}"#, with: #"","extra":1}"#),  // unknown field
            canonical + " ",  // trailing bytes
            canonical.replacingOccurrences(of: "/", with: #"\/"#),  // an escaped slash
            #"{"type":"signInference","id":7,"requestHash":"\#(randomDigest().bytes.base64)","outputHash":"\#(randomDigest().bytes.base64)"}"#,
            #"{"id":7,"outputHash":"\#(hash31)","requestHash":"\#(hash31)","type":"signInference"}"#,  // 31 bytes
            #"{"id":7,"outputHash":"!!","requestHash":"AA==","type":"signInference"}"#,  // not base64
            String(canonical.dropLast()),  // truncated
        ]
        // Each variant differs from the fast path's layout, so the strict decoder has the verdict.
        for variant in variants { declined(ByteBuffer(string: variant)) }
        // An answer with an error, or a signature outside the limits, is not the fast path's.
        let failure = KeyServiceResponse.failure(KeyServiceError(.internalError, "RSA-PSS signing failed"))
        #expect(HotPathWire.decodeResponse(try KeyServiceCodec.encode(failure, id: 3)) == nil)
        let tooLong = try KeyServiceCodec.encode(.signInference(randomSignature(1025)), id: 3)
        #expect(HotPathWire.decodeResponse(tooLong) == nil)
        #expect(throws: KeyServiceProtocolError.self) { try KeyServiceCodec.decodeResponse(tooLong) }
    }

    @Test func ohttpOpenOutsideItsLayoutGoesToTheStrictDecoder() throws {
        let request = KeyServiceRequest.ohttpOpen(encapsulatedRequest: randomBytes(64), chunked: false)
        let canonical = text(try KeyServiceCodec.encode(request, id: 9))
        let variants = [
            canonical.replacingOccurrences(of: #""chunked":false"#, with: #""chunked":0"#),  // not a bool
            canonical.replacingOccurrences(of: #""chunked":false"#, with: #""chunked":False"#),  // not JSON
            canonical.replacingOccurrences(of: #""id":9"#, with: #""id":0"#),  // id 0 is reserved
            canonical.replacingOccurrences(of: #"{"chunked":false,"#, with: "{"),  // missing field
            canonical.replacingOccurrences(of: #""type":"ohttpOpen""#, with: #""type":"signInference""#),
            #"{"chunked":true,"encapsulatedRequest":"","id":9,"type":"ohttpOpen"}"#,  // 0 bytes
            String(canonical.dropLast(3)),  // truncated
            canonical + "\n",  // trailing bytes
        ]
        for variant in variants { declined(ByteBuffer(string: variant)) }
        // Past the encapsulated-request limit: refused by the strict decoder, not read by the fast one.
        let oversized = #"{"chunked":false,"encapsulatedRequest":"\#(randomBytes(512 * 1024 + 1).base64)","id":9,"type":"ohttpOpen"}"#
        declined(ByteBuffer(string: oversized))
        #expect(throws: KeyServiceProtocolError.self) { try KeyServiceCodec.decodeRequest(ByteBuffer(string: oversized)) }
        // An opened request whose secret is outside the limits is not the fast path's either.
        let opened = randomOpened(0)
        let wrong = OpenedOHTTPRequest(
            plaintext: opened.plaintext, encapsulatedKey: opened.encapsulatedKey, kemID: opened.kemID, kdfID: opened.kdfID,
            aeadID: opened.aeadID, responseSecret: randomBytes(65), chunkedResponseSecret: opened.chunkedResponseSecret)
        let payload = try KeyServiceCodec.encodeGenerally(.ohttpOpen(wrong), id: 4)
        #expect(HotPathWire.decodeResponse(payload) == nil)
        #expect(throws: KeyServiceProtocolError.self) { try KeyServiceCodec.decodeResponse(payload) }
    }
}

private extension Array where Element == UInt8 {
    var base64: String { Data(self).base64EncodedString() }
}
