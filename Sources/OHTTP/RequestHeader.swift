/// The 7-byte header that starts an encapsulated request (RFC 9458 §4.3):
/// `key_id(1) ‖ kem_id(2) ‖ kdf_id(2) ‖ aead_id(2)`. It is bound into the HPKE `info`, so a
/// relay that rewrites it breaks decryption rather than steering the gateway.
struct RequestHeader: Hashable {
    static let requestLabel = "message/bhttp request"
    /// draft-ietf-ohai-chunked-ohttp-08 §6.1: the `info` label of a chunked request.
    static let chunkedRequestLabel = "message/bhttp chunked request"

    let keyID: UInt8
    let kemID: UInt16
    let kdfID: UInt16
    let aeadID: UInt16

    init(keyID: UInt8, suite: HPKESuite) {
        self.init(keyID: keyID, kemID: suite.kem.rawValue, kdfID: suite.kdf.rawValue, aeadID: suite.aead.rawValue)
    }

    init(keyID: UInt8, kemID: UInt16, kdfID: UInt16, aeadID: UInt16) {
        self.keyID = keyID
        self.kemID = kemID
        self.kdfID = kdfID
        self.aeadID = aeadID
    }

    static func read(from reader: inout ByteReader<DecapsulationError>) throws(DecapsulationError) -> RequestHeader {
        RequestHeader(
            keyID: try reader.uint8("key_id"), kemID: try reader.uint16("kem_id"),
            kdfID: try reader.uint16("kdf_id"), aeadID: try reader.uint16("aead_id"))
    }

    var bytes: [UInt8] {
        var out: [UInt8] = [keyID]
        out.appendUInt16(kemID)
        out.appendUInt16(kdfID)
        out.appendUInt16(aeadID)
        return out
    }

    /// HPKE `info`: "message/bhttp request" ‖ 0x00 ‖ header.
    var info: [UInt8] { info(label: Self.requestLabel) }

    /// HPKE `info` for `label` (single-shot or chunked request): label ‖ 0x00 ‖ header.
    func info(label: String) -> [UInt8] { Array(label.utf8) + [0] + bytes }
}
