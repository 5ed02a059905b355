import Crypto

/// The response AEAD key and nonce of RFC 9458 §4.4:
/// `prk = Extract(salt = enc ‖ response_nonce, ikm = secret)`,
/// `key = Expand(prk, "key", Nk)`, `nonce = Expand(prk, "nonce", Nn)`.
struct ResponseKeys: Sendable {
    let aead: HPKEAEAD
    let key: SymmetricKey
    let nonce: [UInt8]

    init(secret: [UInt8], encapsulatedKey: [UInt8], responseNonce: [UInt8], aead: HPKEAEAD) {
        let prk = HKDF<SHA256>.extract(
            inputKeyMaterial: SymmetricKey(data: secret), salt: encapsulatedKey + responseNonce)
        self.aead = aead
        self.key = HKDF<SHA256>.expand(pseudoRandomKey: prk, info: Array("key".utf8), outputByteCount: aead.keyLength)
        self.nonce =
            HKDF<SHA256>.expand(
                pseudoRandomKey: prk, info: Array("nonce".utf8), outputByteCount: aead.nonceLength
            ).bytes
    }

    /// Chunk nonce of draft-ietf-ohai-chunked-ohttp-08: `nonce XOR I2OSP(counter, Nn)`.
    func chunkNonce(_ counter: UInt64) -> [UInt8] {
        var out = nonce
        for index in 0..<8 {
            out[out.count - 1 - index] ^= UInt8(truncatingIfNeeded: counter >> UInt64(8 * index))
        }
        return out
    }

    func seal(_ plaintext: [UInt8], nonce: [UInt8], aad: [UInt8]) throws(ResponseError) -> [UInt8] {
        do {
            switch aead {
            case .aes128GCM, .aes256GCM:
                let box = try AES.GCM.seal(
                    plaintext, using: key, nonce: AES.GCM.Nonce(data: nonce), authenticating: aad)
                return Array(box.ciphertext) + Array(box.tag)
            case .chaCha20Poly1305:
                let box = try ChaChaPoly.seal(
                    plaintext, using: key, nonce: ChaChaPoly.Nonce(data: nonce), authenticating: aad)
                return Array(box.ciphertext) + Array(box.tag)
            }
        } catch {
            throw .sealingFailed(String(describing: error))
        }
    }

    /// Callers check `sealed.count >= aead.tagLength` first so framing errors stay distinct
    /// from authentication failures.
    func open(_ sealed: [UInt8], nonce: [UInt8], aad: [UInt8], chunk: Int?) throws(ResponseError) -> [UInt8] {
        let ciphertext = sealed.dropLast(aead.tagLength)
        let tag = sealed.suffix(aead.tagLength)
        do {
            switch aead {
            case .aes128GCM, .aes256GCM:
                let box = try AES.GCM.SealedBox(nonce: AES.GCM.Nonce(data: nonce), ciphertext: ciphertext, tag: tag)
                return Array(try AES.GCM.open(box, using: key, authenticating: aad))
            case .chaCha20Poly1305:
                let box = try ChaChaPoly.SealedBox(
                    nonce: ChaChaPoly.Nonce(data: nonce), ciphertext: ciphertext, tag: tag)
                return Array(try ChaChaPoly.open(box, using: key, authenticating: aad))
            }
        } catch {
            throw .authenticationFailed(chunk: chunk)
        }
    }
}

func randomBytes(_ count: Int) -> [UInt8] {
    var generator = SystemRandomNumberGenerator()
    return (0..<count).map { _ in generator.next() }
}
