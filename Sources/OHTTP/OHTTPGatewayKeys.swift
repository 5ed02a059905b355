/// The gateway's OHTTP key pairs; the key-service owns the only instance.
///
/// Private keys never leave this value: callers get public `configs` and, per request,
/// `decapsulate` returns the plaintext plus a `ResponseContext` that lets a worker seal the
/// response without any private key. Keys are generated fresh per boot; a restart therefore
/// invalidates every client configuration, which clients learn through `unknownKeyID` (or, if a
/// random key id happens to repeat, through `decryptionFailed`).
public struct OHTTPGatewayKeys: Sendable {
    struct KeyPair: Sendable {
        let config: KeyConfig
        let privateKey: HPKEPrivateKey
    }

    private let keyPairs: [KeyPair]

    init(keyPairs: [KeyPair]) {
        self.keyPairs = keyPairs
    }

    /// The suites ARCHITECTURE §8 ships: upstream-compatible X25519 first, then X-Wing.
    public static let shippedSuites: [HPKESuite] = [.x25519ChaCha20Poly1305, .xWingAES256GCM]

    /// One fresh key pair per suite, each with its own random, distinct key id.
    public static func generate(suites: [HPKESuite] = shippedSuites) throws(KeyGenerationError) -> OHTTPGatewayKeys {
        guard (1...256).contains(suites.count) else { throw .invalidSuiteCount(suites.count) }
        let keyIDs = (UInt8.min...UInt8.max).shuffled().prefix(suites.count)
        var keyPairs: [KeyPair] = []
        for (keyID, suite) in zip(keyIDs, suites) {
            do {
                let privateKey = try HPKEPrivateKey.generate(suite.kem)
                let config = try KeyConfig(
                    keyID: keyID, kem: suite.kem, publicKey: privateKey.publicKeyBytes,
                    symmetricSuites: [KeyConfig.SymmetricSuite(kdf: suite.kdf, aead: suite.aead)])
                keyPairs.append(KeyPair(config: config, privateKey: privateKey))
            } catch {
                throw .generationFailed(suite: suite, reason: String(describing: error))
            }
        }
        return OHTTPGatewayKeys(keyPairs: keyPairs)
    }

    /// Public configurations in preference order.
    public var configs: [KeyConfig] { keyPairs.map(\.config) }

    /// `application/ohttp-keys` body for `GET /.well-known/ohttp-gateway`.
    public var encodedConfigList: [UInt8] { KeyConfig.encodeList(configs) }

    /// Opens a `message/ohttp-req` (RFC 9458 §4.3): header, `enc`, then the HPKE ciphertext
    /// with `info = "message/bhttp request" ‖ 0x00 ‖ header` and empty AAD.
    public func decapsulate(_ request: [UInt8]) throws(DecapsulationError) -> DecapsulatedRequest {
        var reader = ByteReader<DecapsulationError>(request)
        let (keyPair, suite, header) = try readHeader(&reader)
        let encapsulatedKey = try reader.bytes(suite.kem.encapsulatedKeyLength, "encapsulated key")
        guard reader.remaining >= suite.aead.tagLength else {
            throw .truncated(
                Truncation(
                    field: "HPKE ciphertext", offset: reader.offset, needed: suite.aead.tagLength,
                    available: reader.remaining))
        }
        let ciphertext = reader.rest()
        do {
            var recipient = try keyPair.privateKey.recipient(
                suite: suite, info: header.info, encapsulatedKey: encapsulatedKey)
            let plaintext = try recipient.open(ciphertext, authenticating: [UInt8]())
            let context = try ResponseContext(suite: suite, encapsulatedKey: encapsulatedKey) { label, length in
                try recipient.exportSecret(context: Array(label.utf8), outputByteCount: length)
            }
            return DecapsulatedRequest(plaintext: Array(plaintext), responseContext: context)
        } catch {
            throw .decryptionFailed
        }
    }

    /// Opens a complete `message/ohttp-chunked-req` (draft-ietf-ohai-chunked-ohttp-08 §6.1):
    /// header, `enc`, then `(varint(len) ‖ sealed_i)*`, `varint(0)`, and the final sealed chunk
    /// to the end. Chunks are opened in order with one HPKE context (`info` labelled
    /// "message/bhttp chunked request"), AAD "" for non-final chunks and "final" for the last,
    /// so reordered, dropped or cut chunks fail. Returns the chunks' plaintexts concatenated.
    ///
    /// The gateway buffers the whole body (it is bounded at 512 KiB) before opening it, so this
    /// takes the complete message rather than a stream.
    public func decapsulateChunked(_ request: [UInt8]) throws(DecapsulationError) -> DecapsulatedRequest {
        var reader = ByteReader<DecapsulationError>(request)
        let (keyPair, suite, header) = try readHeader(&reader)
        let encapsulatedKey = try reader.bytes(suite.kem.encapsulatedKeyLength, "encapsulated key")
        var sealedChunks: [[UInt8]] = []
        while true {
            let length = try reader.varint("chunk length")
            if length == 0 { break }
            guard length >= UInt64(suite.aead.tagLength) else { throw .decryptionFailed }
            sealedChunks.append(try reader.bytes(length, "request chunk"))
        }
        guard reader.remaining >= suite.aead.tagLength else {
            throw .truncated(
                Truncation(
                    field: "final request chunk", offset: reader.offset, needed: suite.aead.tagLength,
                    available: reader.remaining))
        }
        let finalChunk = reader.rest()
        do {
            var recipient = try keyPair.privateKey.recipient(
                suite: suite, info: header.info(label: RequestHeader.chunkedRequestLabel),
                encapsulatedKey: encapsulatedKey)
            var plaintext: [UInt8] = []
            for chunk in sealedChunks {
                plaintext += try recipient.open(chunk, authenticating: [UInt8]())
            }
            plaintext += try recipient.open(finalChunk, authenticating: Array("final".utf8))
            let context = try ResponseContext(suite: suite, encapsulatedKey: encapsulatedKey) { label, length in
                try recipient.exportSecret(context: Array(label.utf8), outputByteCount: length)
            }
            return DecapsulatedRequest(plaintext: plaintext, responseContext: context)
        } catch {
            throw .decryptionFailed
        }
    }

    /// The request header, the key pair it names and the suite it selects.
    private func readHeader(
        _ reader: inout ByteReader<DecapsulationError>
    ) throws(DecapsulationError) -> (KeyPair, HPKESuite, RequestHeader) {
        let header = try RequestHeader.read(from: &reader)
        guard let keyPair = keyPairs.first(where: { $0.config.keyID == header.keyID }) else {
            throw .unknownKeyID(header.keyID)
        }
        guard
            let suite = keyPair.config.supportedSuites.first(where: {
                RequestHeader(keyID: header.keyID, suite: $0) == header
            })
        else {
            throw .unsupportedSuite(
                keyID: header.keyID, kemID: header.kemID, kdfID: header.kdfID, aeadID: header.aeadID)
        }
        return (keyPair, suite, header)
    }
}

/// An opened request: the inner message and what the worker needs to answer it.
public struct DecapsulatedRequest: Sendable {
    public let plaintext: [UInt8]
    public let responseContext: ResponseContext
}

public enum KeyGenerationError: Error, Hashable, Sendable, CustomStringConvertible {
    case invalidSuiteCount(Int)
    case generationFailed(suite: HPKESuite, reason: String)

    public var description: String {
        switch self {
        case .invalidSuiteCount(let count):
            "OHTTP key generation: \(count) suites requested; one-byte key ids allow 1...256"
        case .generationFailed(let suite, let reason):
            "OHTTP key generation for \(suite) failed: \(reason)"
        }
    }
}
