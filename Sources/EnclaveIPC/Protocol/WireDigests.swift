import GatewayCore

/// Readers for the fixed-size digests the protocol carries. They reuse GatewayCore's types (one
/// concept, one name): holding a `Keccak256Digest` or `TEEID` proves the length was checked, so
/// the key service never sees a short or long hash.
extension WireReader {
    static let digestLength = Keccak256.byteCount...Keccak256.byteCount

    /// A keccak-256 digest (request, output or message hash).
    func keccak(_ field: String) throws(KeyServiceProtocolError) -> Keccak256Digest {
        let bytes = try bytes(field, length: Self.digestLength)
        guard let digest = Keccak256Digest(bytes: bytes) else {
            throw KeyServiceProtocolError(.invalidLength(field: field, expected: Self.digestLength, actual: bytes.count))
        }
        return digest
    }

    /// A `tee_id`: keccak-256 of the signing key's SPKI DER.
    func teeID(_ field: String) throws(KeyServiceProtocolError) -> TEEID {
        TEEID(digest: try keccak(field))
    }

    /// A SHA-256 digest (the TLS certificate fingerprint), kept as its 32 bytes.
    func sha256(_ field: String) throws(KeyServiceProtocolError) -> [UInt8] {
        try bytes(field, length: Self.digestLength)
    }
}
