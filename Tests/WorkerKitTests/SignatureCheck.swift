import Foundation
import GatewayCore
import Testing

/// The five `tee_*` fields read with Foundation (not the gateway's own parser), then checked the
/// way a client would: the request hash recomputed from what it sent, the output hash from what it
/// was shown, and the signature with the key published on `/signing-key`.
struct SignedFields {
    let signature: TEESignature

    init(_ object: [String: Any]) throws {
        func string(_ name: String) throws -> String {
            guard let value = object[name] as? String else {
                throw TestFailure("no string '\(name)' in \(object.keys.sorted())")
            }
            return value
        }
        guard let requestHash = Keccak256Digest(hex: try string("tee_request_hash")),
            let outputHash = Keccak256Digest(hex: try string("tee_output_hash")),
            let teeID = TEEID(try string("tee_id")),
            let signature = Data(base64Encoded: try string("tee_signature")),
            let timestamp = (object["tee_timestamp"] as? NSNumber)?.uint64Value
        else { throw TestFailure("malformed tee_* fields in \(object)") }
        self.signature = TEESignature(
            requestHash: requestHash, outputHash: outputHash, timestamp: timestamp, signature: Array(signature),
            teeID: teeID
        )
    }

    /// Records an issue for every check that fails.
    func check(request: String, kind: RequestKind, output: Keccak256Digest, key: InferenceVerifyingKey) throws {
        let canonical = try CanonicalRequest(kind: kind, body: try JSONParser().parse(Array(request.utf8)))
        #expect(signature.requestHash == canonical.hash, "tee_request_hash is not keccak of the canonical request")
        #expect(signature.outputHash == output, "tee_output_hash is not keccak of the answer shown")
        #expect(signature.teeID == key.teeID)
        #expect(signature.signature.count == 256)
        #expect(key.verify(signature) == .valid)
    }
}

/// Every `tee_*` field name, for asserting that an unsigned answer carries none.
let teeFieldNames = ["tee_signature", "tee_request_hash", "tee_output_hash", "tee_timestamp", "tee_id"]

/// Parses one SSE `data:` payload as a JSON object with Foundation.
func jsonObject(_ text: String) throws -> [String: Any] {
    guard let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
        throw TestFailure("not a JSON object: \(text)")
    }
    return object
}
