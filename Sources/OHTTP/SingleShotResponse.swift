/// `message/ohttp-res` (RFC 9458 §4.4): `response_nonce(max(Nn, Nk)) ‖ AEAD(body, aad = "")`.
extension ResponseContext {
    /// Gateway side: seals a complete response under a fresh random nonce.
    public func sealResponse(_ plaintext: [UInt8]) throws(ResponseError) -> [UInt8] {
        try sealResponse(plaintext, responseNonce: randomBytes(suite.responseNonceLength))
    }

    /// Fixed-nonce form, for known-answer tests only.
    func sealResponse(_ plaintext: [UInt8], responseNonce: [UInt8]) throws(ResponseError) -> [UInt8] {
        let keys = ResponseKeys(
            secret: responseSecret, encapsulatedKey: encapsulatedKey, responseNonce: responseNonce, aead: suite.aead)
        return responseNonce + (try keys.seal(plaintext, nonce: keys.nonce, aad: []))
    }

    /// Client side: opens a complete response.
    public func openResponse(_ wire: [UInt8]) throws(ResponseError) -> [UInt8] {
        var reader = ByteReader<ResponseError>(wire)
        let responseNonce = try reader.bytes(suite.responseNonceLength, "response nonce")
        guard reader.remaining >= suite.aead.tagLength else {
            throw .truncated(
                Truncation(
                    field: "AEAD-protected response", offset: reader.offset, needed: suite.aead.tagLength,
                    available: reader.remaining))
        }
        let keys = ResponseKeys(
            secret: responseSecret, encapsulatedKey: encapsulatedKey, responseNonce: responseNonce, aead: suite.aead)
        return try keys.open(reader.rest(), nonce: keys.nonce, aad: [], chunk: nil)
    }
}
