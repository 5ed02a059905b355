/// Client side of RFC 9458 (confidential-proxy, gatewayctl).
public enum OHTTPClient {
    /// Encapsulates `request` (normally Binary HTTP) to `config` using the first suite in the
    /// configuration this module supports, i.e. the gateway's preference.
    ///
    /// Keep the returned `responseContext` for exactly this request: it is the only way to open
    /// the response, and reusing it for another request would let responses be swapped.
    public static func encapsulate(
        request: [UInt8], config: KeyConfig
    ) throws(EncapsulationError) -> EncapsulatedRequest {
        guard let suite = config.supportedSuites.first else {
            throw .noSupportedSuite(keyID: config.keyID, offered: config.symmetricSuites)
        }
        let header = RequestHeader(keyID: config.keyID, suite: suite)
        do {
            var sender = try HPKESenderFactory.sender(publicKey: config.publicKey, suite: suite, info: header.info)
            let ciphertext = try sender.seal(request, authenticating: [UInt8]())
            let encapsulatedKey = Array(sender.encapsulatedKey)
            let context = try ResponseContext(suite: suite, encapsulatedKey: encapsulatedKey) { label, length in
                try sender.exportSecret(context: Array(label.utf8), outputByteCount: length)
            }
            return EncapsulatedRequest(
                bytes: header.bytes + encapsulatedKey + Array(ciphertext), responseContext: context)
        } catch {
            throw .hpkeSetupFailed(keyID: config.keyID, suite: suite, reason: String(describing: error))
        }
    }
}

extension OHTTPClient {
    /// Encapsulates `chunks` as one `message/ohttp-chunked-req`
    /// (draft-ietf-ohai-chunked-ohttp-08 §6.1): every chunk but the last is sealed with AAD ""
    /// and written as `varint(len) ‖ sealed`, then `varint(0)` and the last chunk sealed with
    /// AAD "final". An empty `chunks` sends one empty final chunk. The response to a chunked
    /// request is always `message/ohttp-chunked-res`, opened with `ChunkedResponseOpener`.
    public static func encapsulateChunked(
        chunks: [[UInt8]], config: KeyConfig
    ) throws(EncapsulationError) -> EncapsulatedRequest {
        guard let suite = config.supportedSuites.first else {
            throw .noSupportedSuite(keyID: config.keyID, offered: config.symmetricSuites)
        }
        let header = RequestHeader(keyID: config.keyID, suite: suite)
        do {
            var sender = try HPKESenderFactory.sender(
                publicKey: config.publicKey, suite: suite, info: header.info(label: RequestHeader.chunkedRequestLabel))
            let encapsulatedKey = Array(sender.encapsulatedKey)
            var out = header.bytes + encapsulatedKey
            for chunk in chunks.dropLast() {
                let sealed = try sender.seal(chunk, authenticating: [UInt8]())
                try QUICVarint.append(UInt64(sealed.count), to: &out)
                out += sealed
            }
            out.append(0)
            out += try sender.seal(chunks.last ?? [], authenticating: Array("final".utf8))
            let context = try ResponseContext(suite: suite, encapsulatedKey: encapsulatedKey) { label, length in
                try sender.exportSecret(context: Array(label.utf8), outputByteCount: length)
            }
            return EncapsulatedRequest(bytes: out, responseContext: context)
        } catch {
            throw .hpkeSetupFailed(keyID: config.keyID, suite: suite, reason: String(describing: error))
        }
    }
}

/// A `message/ohttp-req` body and the context that opens its response.
public struct EncapsulatedRequest: Sendable {
    public let bytes: [UInt8]
    public let responseContext: ResponseContext
}

public enum EncapsulationError: Error, Hashable, Sendable, CustomStringConvertible {
    case noSupportedSuite(keyID: UInt8, offered: [KeyConfig.SymmetricSuite])
    /// HPKE refused the configuration's public key (for X25519, e.g. a low-order point).
    case hpkeSetupFailed(keyID: UInt8, suite: HPKESuite, reason: String)

    public var description: String {
        switch self {
        case .noSupportedSuite(let keyID, let offered):
            "key configuration \(keyID) offers no supported KDF/AEAD pair (offered: "
                + offered.map { "0x\(hex4($0.kdfID))/0x\(hex4($0.aeadID))" }.joined(separator: ", ") + ")"
        case .hpkeSetupFailed(let keyID, let suite, let reason):
            "HPKE setup to key configuration \(keyID) (\(suite)) failed: \(reason); check the published public key"
        }
    }
}
