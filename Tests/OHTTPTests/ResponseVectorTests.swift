import Testing

@testable import OHTTP

/// The fixed-secret response vectors of ohttp-vectors.json (upstream suite: X25519,
/// HKDF-SHA256, ChaCha20-Poly1305, so max(Nn, Nk) = 32).
@Suite struct ResponseVectorTests {
    static func context(secret: String, enc: String) throws -> ResponseContext {
        let secret = try hex(secret)
        return try ResponseContext(
            suite: .x25519ChaCha20Poly1305, encapsulatedKey: try hex(enc), responseSecret: secret,
            chunkedResponseSecret: secret)
    }

    @Test func singleShotKeysAndWireMatch() throws {
        let vector = try OHTTPVectors.load().single_shot_response
        let context = try Self.context(secret: vector.secret, enc: vector.enc)
        let nonce = try hex(vector.response_nonce)
        let keys = ResponseKeys(
            secret: context.responseSecret, encapsulatedKey: context.encapsulatedKey, responseNonce: nonce,
            aead: .chaCha20Poly1305)
        #expect(keys.key.bytes == (try hex(vector.aead_key)))
        #expect(keys.nonce == (try hex(vector.aead_nonce)))

        let wire = try context.sealResponse(Array(vector.plaintext_utf8.utf8), responseNonce: nonce)
        #expect(wire == nonce + (try hex(vector.wire_after_nonce)))
        #expect(try context.openResponse(wire) == Array(vector.plaintext_utf8.utf8))
    }

    @Test func chunkedWireMatchesAndOpens() throws {
        let vector = try OHTTPVectors.load().chunked_response
        let context = try Self.context(secret: vector.secret, enc: vector.enc)
        let nonce = try hex(vector.response_nonce)
        let chunks = vector.chunks_utf8.map { Array($0.utf8) }
        #expect(vector.final_index == chunks.count - 1)

        var sealer = ChunkedResponseSealer(context: context, responseNonce: nonce)
        var wire: [UInt8] = []
        for (index, chunk) in chunks.enumerated() {
            wire += index == vector.final_index ? try sealer.sealFinal(chunk) : try sealer.seal(chunk)
        }
        #expect(wire == nonce + (try hex(vector.wire_after_nonce)))

        var opener = ChunkedResponseOpener(context: context)
        var opened = try opener.feed(wire)
        opened.append(try opener.finish())
        #expect(opened == chunks)
    }

    @Test func singleShotOpenRejectsEveryTruncationAndEveryBitFlip() throws {
        let vector = try OHTTPVectors.load().single_shot_response
        let context = try Self.context(secret: vector.secret, enc: vector.enc)
        let wire = try context.sealResponse(Array(vector.plaintext_utf8.utf8))
        for cut in 0..<wire.count {
            #expect(throws: ResponseError.self) { try context.openResponse(Array(wire[..<cut])) }
        }
        #expect(
            throws: ResponseError.truncated(
                Truncation(field: "AEAD-protected response", offset: 32, needed: 16, available: 15))
        ) {
            try context.openResponse(Array(wire[..<47]))
        }
        for index in wire.indices {
            var tampered = wire
            tampered[index] ^= 0x01
            #expect(throws: ResponseError.authenticationFailed(chunk: nil)) { try context.openResponse(tampered) }
        }
    }

    @Test func contextRejectsLengthsThatDoNotFitTheSuite() throws {
        #expect(throws: ResponseContextError.wrongLength(field: "response secret", expected: 32, actual: 16)) {
            try ResponseContext(
                suite: .x25519ChaCha20Poly1305, encapsulatedKey: [UInt8](repeating: 0, count: 32),
                responseSecret: [UInt8](repeating: 0, count: 16),
                chunkedResponseSecret: [UInt8](repeating: 0, count: 32))
        }
        #expect(throws: ResponseContextError.wrongLength(field: "encapsulated key", expected: 1120, actual: 32)) {
            try ResponseContext(
                suite: .xWingAES256GCM, encapsulatedKey: [UInt8](repeating: 0, count: 32),
                responseSecret: [UInt8](repeating: 0, count: 32),
                chunkedResponseSecret: [UInt8](repeating: 0, count: 32))
        }
    }

    @Test func contextDescriptionNeverShowsSecrets() throws {
        let context = try Self.context(
            secret: String(repeating: "ab", count: 32), enc: String(repeating: "22", count: 32))
        for text in [String(describing: context), String(reflecting: context), "\(context)"] {
            #expect(!text.contains("171"))  // 0xab
            #expect(text.contains("redacted"))
        }
    }
}
