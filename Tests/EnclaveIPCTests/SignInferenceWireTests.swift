import Foundation
import GatewayCore
import NIOCore
import Testing

@testable import EnclaveIPC

/// The `signInference` fast path writes exactly what the general (Foundation JSON) path writes,
/// reads what either writes, and hands everything outside its one layout to the strict decoder.
@Suite("signInference fast path")
struct SignInferenceWireTests {
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

    @Test func sameBytesAsTheGeneralPathBothWays() throws {
        for round in 0..<300 {
            let id = [1, 2, 42, UInt64.max, UInt64.random(in: 1...UInt64.max)][round % 5]
            let request = KeyServiceRequest.signInference(requestHash: randomDigest(), outputHash: randomDigest())
            let general = try KeyServiceCodec.encodeGenerally(request, id: id)
            let fast = try KeyServiceCodec.encode(request, id: id)
            #expect(text(fast) == text(general))
            let fastRead = try #require(SignInferenceWire.decodeRequest(general))
            #expect(fastRead.id == id && fastRead.request == request)
            let generalRead = try KeyServiceCodec.decodeGenerally(request: fast)
            #expect(generalRead.id == id && generalRead.request == request)

            let response = KeyServiceResponse.signInference(randomSignature([256, 1, 1024, 512][round % 4]))
            let generalAnswer = try KeyServiceCodec.encodeGenerally(response, id: id)
            let fastAnswer = try KeyServiceCodec.encode(response, id: id)
            #expect(text(fastAnswer) == text(generalAnswer))
            let fastAnswerRead = try #require(SignInferenceWire.decodeResponse(generalAnswer))
            #expect(fastAnswerRead.id == id && fastAnswerRead.response == response)
            let generalAnswerRead = try KeyServiceCodec.decodeGenerally(response: fastAnswer)
            #expect(generalAnswerRead.id == id && generalAnswerRead.response == response)
        }
    }

    @Test func anythingElseGoesToTheStrictDecoderWithItsVerdict() throws {
        let request = KeyServiceRequest.signInference(requestHash: randomDigest(), outputHash: randomDigest())
        let canonical = text(try KeyServiceCodec.encode(request, id: 7))
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
        for variant in variants {
            let payload = ByteBuffer(string: variant)
            let general = Result { try KeyServiceCodec.decodeGenerally(request: payload) }
            // The fast path declines unless the input is exactly its layout, which here only
            // the escaped-slash variant might match (it never does: a backslash is not base64).
            #expect(SignInferenceWire.decodeRequest(payload) == nil, "\(variant)")
            let combined = Result { try KeyServiceCodec.decodeRequest(payload) }
            switch (general, combined) {
            case (.success(let a), .success(let b)): #expect(a.id == b.id && a.request == b.request)
            case (.failure(let a), .failure(let b)): #expect("\(a)" == "\(b)")
            default: Issue.record("the combined decoder disagrees with the strict one on \(variant)")
            }
        }
        // An answer with an error, or a signature outside the limits, is not the fast path's.
        let failure = KeyServiceResponse.failure(KeyServiceError(.internalError, "RSA-PSS signing failed"))
        #expect(SignInferenceWire.decodeResponse(try KeyServiceCodec.encode(failure, id: 3)) == nil)
        let tooLong = try KeyServiceCodec.encode(.signInference(randomSignature(1025)), id: 3)
        #expect(SignInferenceWire.decodeResponse(tooLong) == nil)
        #expect(throws: KeyServiceProtocolError.self) { try KeyServiceCodec.decodeResponse(tooLong) }
    }
}

private extension Array where Element == UInt8 {
    var base64: String { Data(self).base64EncodedString() }
}
